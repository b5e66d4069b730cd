// One batch of write markers stored before $before (epoch ms), oldest first (the
// storedAt index serves both), as delete-expired-event-ids does for the keys.
MATCH (b:IngestedBatch)
WHERE b.storedAt < $before
WITH b ORDER BY b.storedAt ASC LIMIT $limit
DELETE b
RETURN count(*) AS deleted
