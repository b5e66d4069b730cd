// Records that an old run's memberships were removed (its cluster summaries remain);
// `marked` is 0 when another process's housekeeping recorded it first.
MATCH (r:LinkageRun {id: $runId})
WHERE r.membershipsPrunedAt IS NULL
SET r.membershipsPrunedAt = $now
RETURN count(r) AS marked
