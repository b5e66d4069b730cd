// Records, before any of an old run's memberships are deleted, that they are going: a
// reader that finds this after reading a page knows the page may be cut short.
MATCH (r:LinkageRun {id: $runId})
SET r.membershipsPruningAt = coalesce(r.membershipsPruningAt, $now)
