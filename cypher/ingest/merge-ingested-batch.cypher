// A write's marker, merged first in its transaction. $token is made once per write,
// outside the transaction function, so when the driver runs the function again after a
// commit whose answer was lost, this finds the marker that commit left: `written` is
// not null, and the write is already in. Null on the first attempt (the counts are
// set at the end of the same transaction by set-ingested-batch-counts).
MERGE (b:IngestedBatch {token: $token})
  ON CREATE SET b.storedAt = $now
RETURN b.received AS received, b.written AS written
