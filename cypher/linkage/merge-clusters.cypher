// Writes one batch of a run's clusters under the run's own keys (runId/id); readers
// do not see them until the pointer is flipped to this run. Nothing once the run is no
// longer running: one failed by another process (its lease expired) and cleaned up by
// the next run's housekeeping must not write its remaining batches back as orphans.
// Memberships follow: merge-memberships finds no cluster to join.
MATCH (run:LinkageRun {id: $runId, status: 'running'})
UNWIND $rows AS r
MERGE (c:Cluster {key: r.key})
SET c.id = r.id, c.runId = $runId, c.risk = r.risk, c.flagged = r.flagged, c.size = r.size,
    c.rank = r.rank, c.reasons = r.reasons, c.signals = r.signals,
    c.sharedIdentifiers = r.sharedIdentifiers, c.change = r.change, c.from = r.from,
    c.createdAt = $now
MERGE (run)-[:PRODUCED]->(c)
// What was written, for the run's stats: none once the run is no longer running.
RETURN count(c) AS written
