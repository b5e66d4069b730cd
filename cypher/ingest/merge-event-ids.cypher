// Idempotency keys: returns which of $ids were not stored before this transaction.
UNWIND $ids AS id
MERGE (e:IngestedEvent {id: id})
  ON CREATE SET e.token = $token, e.storedAt = $now
RETURN id, e.token = $token AS fresh
