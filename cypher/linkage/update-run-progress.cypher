// Phase, progress (0–1) and per-phase timings of a running run.
MATCH (r:LinkageRun {id: $id, status: 'running'})
SET r.phase = $phase, r.progress = $progress, r.timings = $timings, r.updatedAt = $now
