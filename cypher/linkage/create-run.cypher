// A new run record, status running (created in the transaction that took the lease).
// MERGE: a retried commit that had gone through finds its record and leaves it alone;
// its status says whether a dead-run check failed it in between (the caller refuses then).
MERGE (r:LinkageRun {id: $id})
ON CREATE SET r += {status: 'running', phase: 'starting', progress: 0.0, trigger: $trigger,
                    seed: $seed, startedAt: $now, params: $params, stats: '{}',
                    timings: '{}', dissolved: '[]'}
RETURN r.id AS id, r.status AS status
