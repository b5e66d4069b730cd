// Run records, newest first: runs still going (no finishedAt), then by finishedAt.
// Not by startedAt: that is the starting replica's clock, and replicas' clocks may
// disagree; a succeeded run's finishedAt is the database's (make-run-current).
MATCH (r:LinkageRun)
WITH r, coalesce(r.finishedAt, r.startedAt) AS at
ORDER BY r.finishedAt IS NULL DESC, at DESC, r.id DESC LIMIT $limit
OPTIONAL MATCH (p:Pointer {name: 'current'})
RETURN r {.*} AS run, p.runId = r.id AS current
ORDER BY r.finishedAt IS NULL DESC, coalesce(r.finishedAt, r.startedAt) DESC, r.id DESC
