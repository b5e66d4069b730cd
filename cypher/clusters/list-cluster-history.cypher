// Every run that had the cluster (by stable id), oldest first: size, risk and how it changed.
MATCH (c:Cluster {id: $clusterId})
OPTIONAL MATCH (r:LinkageRun {id: c.runId})
RETURN c.runId AS runId, r.startedAt AS runStartedAt, r.finishedAt AS runFinishedAt,
  c.size AS size, c.risk AS risk, c.flagged AS flagged, c.change AS change, c.from AS from
ORDER BY coalesce(r.startedAt, 0), c.runId
