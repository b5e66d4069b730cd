// A succeeded run's stats once the housekeeping after its swap is done (publish.ts):
// the swap stored them before it ran, without `publish.prune`. A succeeded run's status
// never changes again, so this needs no lease lock.
MATCH (r:LinkageRun {id: $runId, status: 'succeeded'})
SET r.stats = $stats
RETURN r.id AS id
