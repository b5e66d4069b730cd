// The atomic swap: in one transaction, and only while this run still holds the
// lease, point readers at this run, mark it succeeded and free the lease, so a
// client that sees "succeeded" can trigger the next run at once. The lease's lock is
// taken first: every statement that fails a run or takes the lease takes it first
// too, so the holder and the run's status read after it are committed, and a run
// failed by a check for dead runs while this waited is not made current.
// finishedAt is the database's clock (epoch ms, a float as every run time): pruning
// orders succeeded runs by it, and replicas' clocks may disagree.
// No row back: not flipped (the lease was lost or the run is no longer running).
MATCH (l:Lease {name: $lease})
SET l.lockedAt = timestamp()
WITH l
WHERE l.holder = $runId
MATCH (run:LinkageRun {id: $runId, status: 'running'})
MERGE (p:Pointer {name: 'current'})
WITH l, run, p, toFloat(timestamp()) AS now
SET run.previousRunId = p.runId,
    p.previousRunId = p.runId, p.runId = $runId, p.updatedAt = now,
    p.version = coalesce(p.version, 0) + 1,
    run.status = 'succeeded', run.phase = 'done', run.progress = 1.0, run.finishedAt = now,
    run.stats = $stats, run.timings = $timings, run.dissolved = $dissolved,
    l.holder = null, l.expiresAt = null, l.releasedAt = timestamp()
RETURN run.id AS runId
