// Runs still marked running that do not hold the lease (its new holder calls this): their
// process died, or Neo4j was away when they failed and the failure could not be recorded.
// Failing them here means no run shows "running" for ever.
MATCH (r:LinkageRun {status: 'running'})
WHERE r.id <> $holder
SET r.status = 'failed', r.error = $error, r.finishedAt = $now
RETURN r.id AS id
