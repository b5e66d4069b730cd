// One batch of idempotency keys stored before $before (epoch ms), oldest first
// (the storedAt index serves both). The caller repeats until a batch comes back short.
MATCH (e:IngestedEvent)
WHERE e.storedAt < $before
WITH e ORDER BY e.storedAt ASC LIMIT $limit
DELETE e
RETURN count(*) AS deleted
