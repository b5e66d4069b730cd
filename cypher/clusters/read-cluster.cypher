// A cluster by its stable id: the current run's version when there is one,
// otherwise the latest published run that had it (a dissolved cluster keeps its
// history; a failed run's partial clusters are no version of anything). Latest by
// finishedAt, the swap's time on the database's clock: replicas' clocks (startedAt) may
// disagree.
MATCH (c:Cluster {id: $clusterId})
MATCH (r:LinkageRun {id: c.runId})
WHERE r.status = 'succeeded'
RETURN c {.*} AS cluster, c.runId = $runId AS current
ORDER BY current DESC, coalesce(r.finishedAt, r.startedAt) DESC, r.id DESC
LIMIT 1
