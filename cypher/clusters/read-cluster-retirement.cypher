// The run that retired a cluster no longer current: the succeeded run that replaced the
// last one that had it (`previousRunId`, set by the swap); for runs from before that
// property, the first succeeded run to start after it. Its `dissolved` (JSON) says how
// the cluster ended and into which clusters it went.
MATCH (last:LinkageRun {id: $runId})
MATCH (r:LinkageRun {status: 'succeeded'})
WHERE r.previousRunId = $runId OR (r.previousRunId IS NULL AND r.startedAt > last.startedAt)
RETURN r.id AS runId, r.finishedAt AS finishedAt, r.dissolved AS dissolved
ORDER BY coalesce(r.previousRunId = $runId, false) DESC, r.startedAt, r.id
LIMIT 1
