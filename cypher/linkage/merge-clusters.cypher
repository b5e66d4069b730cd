// Writes one batch of a run's clusters under the run's own keys (runId/id); readers
// do not see them until the pointer is flipped to this run.
MATCH (run:LinkageRun {id: $runId})
UNWIND $rows AS r
MERGE (c:Cluster {key: r.key})
SET c.id = r.id, c.runId = $runId, c.risk = r.risk, c.flagged = r.flagged, c.size = r.size,
    c.rank = r.rank, c.reasons = r.reasons, c.signals = r.signals,
    c.sharedIdentifiers = r.sharedIdentifiers, c.change = r.change, c.from = r.from,
    c.createdAt = $now
MERGE (run)-[:PRODUCED]->(c)
