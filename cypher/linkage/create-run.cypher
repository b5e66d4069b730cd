// A new run record, status running (created in the transaction that took the lease).
CREATE (r:LinkageRun {id: $id, status: 'running', phase: 'starting', progress: 0.0,
                      trigger: $trigger, seed: $seed, startedAt: $now, params: $params,
                      stats: '{}', timings: '{}', dissolved: '[]'})
RETURN r.id AS id
