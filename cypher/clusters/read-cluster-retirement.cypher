// The run that retired a cluster no longer current: the succeeded run that replaced the
// last one that had it (`previousRunId`, set by the swap). Runs from before that
// property existed: the first succeeded run to start after it. Its `dissolved` (JSON)
// says how the cluster ended and into which clusters it went.
MATCH (last:LinkageRun {id: $runId})
OPTIONAL MATCH (next:LinkageRun {previousRunId: $runId, status: 'succeeded'})
CALL {
  WITH last, next
  MATCH (r:LinkageRun)
  WHERE next IS NULL AND r.status = 'succeeded' AND r.previousRunId IS NULL
    AND r.startedAt > last.startedAt
  RETURN r AS after
  ORDER BY r.startedAt, r.id
  LIMIT 1
  UNION
  WITH next
  RETURN next AS after
}
WITH after WHERE after IS NOT NULL
RETURN after.id AS runId, after.finishedAt AS finishedAt, after.dissolved AS dissolved
LIMIT 1
