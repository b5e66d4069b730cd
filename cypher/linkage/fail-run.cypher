// Marks a running run failed with its error; a finished run is left as it is.
MATCH (r:LinkageRun {id: $id})
WHERE r.status = 'running'
SET r.status = 'failed', r.error = $error, r.finishedAt = $now,
    r.timings = coalesce($timings, r.timings), r.stats = coalesce($stats, r.stats)
RETURN r.id AS id
