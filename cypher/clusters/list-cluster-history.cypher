// The latest $limit published runs that had the cluster (by stable id), newest first,
// with how many there are in all: size, risk and how it changed. In swap order:
// finishedAt is the database's clock, startedAt the replica's, and replicas' clocks may
// disagree. A failed run's partial clusters (left until cleaned) are not history.
MATCH (c:Cluster {id: $clusterId})
MATCH (r:LinkageRun {id: c.runId})
WHERE r.status = 'succeeded'
WITH count(c) AS total
MATCH (c:Cluster {id: $clusterId})
MATCH (r:LinkageRun {id: c.runId})
WHERE r.status = 'succeeded'
WITH total, c, r
ORDER BY coalesce(r.finishedAt, r.startedAt) DESC, c.runId DESC
LIMIT $limit
RETURN total, c.runId AS runId, r.startedAt AS runStartedAt, r.finishedAt AS runFinishedAt,
  c.size AS size, c.risk AS risk, c.flagged AS flagged, c.change AS change, c.from AS from
