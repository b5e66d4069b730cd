// The atomic swap: in one transaction, and only while this run still holds the
// lease, point readers at this run and mark it succeeded. No row back: not flipped.
MATCH (run:LinkageRun {id: $runId, status: 'running'})
MATCH (:Lease {name: $lease, holder: $runId})
MERGE (p:Pointer {name: 'current'})
SET p.previousRunId = p.runId, p.runId = $runId, p.updatedAt = $now,
    run.status = 'succeeded', run.phase = 'done', run.progress = 1.0, run.finishedAt = $now,
    run.stats = $stats, run.timings = $timings, run.dissolved = $dissolved
RETURN run.id AS runId
