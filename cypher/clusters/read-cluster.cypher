// A cluster by its stable id: the current run's version when there is one,
// otherwise the latest run that had it (a dissolved cluster keeps its history).
MATCH (c:Cluster {id: $clusterId})
OPTIONAL MATCH (r:LinkageRun {id: c.runId})
RETURN c {.*} AS cluster, c.runId = $runId AS current
ORDER BY current DESC, r.startedAt DESC
LIMIT 1
