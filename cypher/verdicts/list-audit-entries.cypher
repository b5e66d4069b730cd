// Audit records, newest first, keyset-paged by (at, id).
MATCH (e:AuditEntry)
WHERE ($action IS NULL OR e.action = $action)
  AND ($beforeAt IS NULL OR e.at < $beforeAt OR (e.at = $beforeAt AND e.id < $beforeId))
RETURN e {.*} AS entry
ORDER BY e.at DESC, e.id DESC
LIMIT $limit
