// Run records, newest first.
MATCH (r:LinkageRun)
WITH r ORDER BY r.startedAt DESC, r.id DESC LIMIT $limit
OPTIONAL MATCH (p:Pointer {name: 'current'})
RETURN r {.*} AS run, p.runId = r.id AS current
ORDER BY r.startedAt DESC, r.id DESC
