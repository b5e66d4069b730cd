// Succeeded runs older than the newest $keep whose memberships are still in the
// graph (never the current run): their Cluster summaries stay for history.
MATCH (r:LinkageRun {status: 'succeeded'})
WITH r ORDER BY r.finishedAt DESC, r.id DESC SKIP $keep
WITH r WHERE r.membershipsPrunedAt IS NULL
  AND NOT EXISTS { MATCH (:Pointer {name: 'current', runId: r.id}) }
RETURN r.id AS runId
