// One batch of the audit entries of investigations and console queries that started
// before $before (epoch ms), oldest first (the AuditEntry(at) index serves both). Verdicts'
// and allow-list changes' entries are kept: their resends are answered from them. The
// caller repeats until a batch comes back short.
MATCH (e:AuditEntry)
WHERE e.at < $before AND e.action IN ['investigation', 'cypher']
WITH e ORDER BY e.at ASC LIMIT $limit
DELETE e
RETURN count(*) AS deleted
