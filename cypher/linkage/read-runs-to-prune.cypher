// Succeeded runs beyond the newest $keep whose memberships are still in the graph
// (never the current run, nor the one it replaced: replicas that have not yet seen the
// swap still answer from it): their Cluster summaries stay for history. Called after a
// run's swap with $keep = LINKAGE_KEEP_RUNS, the new current run counting as one.
// Newest by finishedAt, which the swap sets from the database's clock.
MATCH (r:LinkageRun {status: 'succeeded'})
WITH r ORDER BY r.finishedAt DESC, r.id DESC SKIP $keep
WITH r WHERE r.membershipsPrunedAt IS NULL
  AND NOT EXISTS {
    MATCH (p:Pointer {name: 'current'}) WHERE p.runId = r.id OR p.previousRunId = r.id
  }
RETURN r.id AS runId
