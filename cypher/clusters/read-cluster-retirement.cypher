// The run that retired a cluster no longer current: the first succeeded run after the
// last one that had it (runs take turns under the lease, so start order is run order).
// Its `dissolved` (JSON) says how the cluster ended and into which clusters it went.
MATCH (last:LinkageRun {id: $runId})
MATCH (r:LinkageRun)
WHERE r.status = 'succeeded' AND r.startedAt > last.startedAt
RETURN r.id AS runId, r.finishedAt AS finishedAt, r.dissolved AS dissolved
ORDER BY r.startedAt, r.id
LIMIT 1
