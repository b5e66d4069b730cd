// Marks a running run failed with its error; a finished run is left as it is. The
// lease's lock first, as every statement that reads a run's status and then changes it:
// a shutdown that fails this process's run while its swap commits then reads the
// swap's "succeeded", instead of overwriting it with "failed". The run's own record
// ($own) also replaces a failure another wrote first (a shutdown, with no stats or
// timings; a lease found expired): it knows its error and how far it got.
MERGE (l:Lease {name: $lease})
SET l.lockedAt = timestamp()
WITH l
MATCH (r:LinkageRun {id: $id})
WHERE r.status = 'running' OR ($own AND r.status = 'failed')
SET r.status = 'failed', r.error = $error, r.errorSummary = $summary, r.finishedAt = $now,
    r.timings = coalesce($timings, r.timings), r.stats = coalesce($stats, r.stats)
RETURN r.id AS id
