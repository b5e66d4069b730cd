// What a run recorded of its link ages (params.linkMaxAgeDays, stats.extract.agedAsOf),
// as the one pair runAges() reads; an empty list for a run not found (pruned since).
RETURN COLLECT {
  MATCH (run:LinkageRun {id: $runId})
  RETURN [run.params, run.stats]
} AS run
