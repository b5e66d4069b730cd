// Whether a run's memberships are being or have been pruned. Read after its members:
// pruning is marked before its first delete, so a page that lost any member sees it.
MATCH (r:LinkageRun {id: $runId})
RETURN r.membershipsPruningAt IS NOT NULL OR r.membershipsPrunedAt IS NOT NULL AS pruned
