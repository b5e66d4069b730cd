// Records that an old run's memberships were removed (its cluster summaries remain).
MATCH (r:LinkageRun {id: $runId})
SET r.membershipsPrunedAt = $now
