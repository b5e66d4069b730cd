// The latest $limit published runs that had the cluster (by stable id), newest first,
// with how many there are in all: size, risk and how it changed. In swap order:
// finishedAt is the database's clock, startedAt the replica's, and replicas' clocks may
// disagree. A failed run's partial clusters (left until cleaned) are not history.
// Up to the run whose version the detail shows ($upToRunId): a replica not yet on a newer
// run must not list it after the version it calls current.
OPTIONAL MATCH (shown:LinkageRun {id: $upToRunId})
WITH coalesce(shown.finishedAt, shown.startedAt) AS upTo, shown.id AS upToId
MATCH (c:Cluster {id: $clusterId})
MATCH (r:LinkageRun {id: c.runId})
WITH upTo, upToId, c, r, coalesce(r.finishedAt, r.startedAt) AS at
WHERE r.status = 'succeeded'
  AND (upTo IS NULL OR at < upTo OR (at = upTo AND r.id <= upToId))
WITH collect({c: c, r: r, at: at}) AS versions
UNWIND versions AS v
WITH size(versions) AS total, v.c AS c, v.r AS r, v.at AS at
ORDER BY at DESC, c.runId DESC
LIMIT $limit
RETURN total, c.runId AS runId, r.startedAt AS runStartedAt, r.finishedAt AS runFinishedAt,
  c.size AS size, c.risk AS risk, c.flagged AS flagged, c.change AS change, c.from AS from
