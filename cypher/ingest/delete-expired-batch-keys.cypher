// One batch of Idempotency-Key markers stored before $before (epoch ms), oldest first
// (the storedAt index serves both), as delete-expired-event-ids does for events' keys.
MATCH (k:IngestedBatchKey)
WHERE k.storedAt < $before
WITH k ORDER BY k.storedAt ASC LIMIT $limit
DELETE k
RETURN count(*) AS deleted
