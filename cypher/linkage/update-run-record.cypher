// Final stats and timings of a run, whatever its status (e.g. after pruning).
MATCH (r:LinkageRun {id: $id})
SET r.stats = $stats, r.timings = $timings
