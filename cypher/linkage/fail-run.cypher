// Marks a running run failed with its error; a finished run is left as it is. The
// lease's lock first, as every statement that reads a run's status and then changes it:
// a shutdown that fails this process's run while its swap commits then reads the
// swap's "succeeded", instead of overwriting it with "failed". The run's own record
// ($own) also replaces a failure another wrote first (a shutdown, with no stats or
// timings): it knows its error and how far it got. But not "lease expired": what the
// run saw then (its lease lost) is the consequence, and read as "another run holds it"
// when none did (review, 12-05); it adds its stats and timings only. finishedAt is the
// database's clock, as the swap's: the run list orders by it, and replicas' clocks differ.
MERGE (l:Lease {name: $lease})
SET l.lockedAt = timestamp()
WITH l
MATCH (r:LinkageRun {id: $id})
WHERE r.status = 'running' OR ($own AND r.status = 'failed')
WITH r, r.status = 'failed' AND r.error = $expiredError AS expired
SET r.status = 'failed',
    r.error = CASE WHEN expired THEN r.error ELSE $error END,
    r.errorSummary = CASE WHEN expired THEN r.errorSummary ELSE $summary END,
    r.finishedAt = CASE WHEN expired THEN r.finishedAt ELSE toFloat(timestamp()) END,
    r.timings = coalesce($timings, r.timings), r.stats = coalesce($stats, r.stats)
RETURN r.id AS id
