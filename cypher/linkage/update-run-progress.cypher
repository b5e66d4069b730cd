// Phase, progress (0–1) and per-phase timings of a running run. The lease's lock first,
// as every statement that reads a run's status and then changes it: a write that waited
// on the swap (or on a fail) reads the finished status and changes nothing.
MERGE (l:Lease {name: $lease})
SET l.lockedAt = timestamp()
WITH l
MATCH (r:LinkageRun {id: $id})
WHERE r.status = 'running'
SET r.phase = $phase, r.progress = $progress, r.timings = $timings, r.updatedAt = $now
