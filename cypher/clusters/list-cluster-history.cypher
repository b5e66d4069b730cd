// Every published run that had the cluster (by stable id), oldest first: size, risk and
// how it changed. In swap order: finishedAt is the database's clock, startedAt the
// replica's, and replicas' clocks may disagree. A failed run's partial clusters (left
// until cleaned) are not history.
MATCH (c:Cluster {id: $clusterId})
MATCH (r:LinkageRun {id: c.runId})
WHERE r.status = 'succeeded'
RETURN c.runId AS runId, r.startedAt AS runStartedAt, r.finishedAt AS runFinishedAt,
  c.size AS size, c.risk AS risk, c.flagged AS flagged, c.change AS change, c.from AS from
ORDER BY coalesce(r.finishedAt, r.startedAt), c.runId
