// The marker of a batch sent with an Idempotency-Key, merged first in its transaction in
// place of merge-ingested-batch's: keyed by the caller's key ($key, a hash of the caller's
// name and the header), not a token per write. Found with counts, the batch is already in:
// a client's resend (another $token) or the driver's re-run of this write after a commit
// whose answer was lost (the same $token). $digest tells another batch sent under the key.
MERGE (k:IngestedBatchKey {key: $key})
  ON CREATE SET k.storedAt = $now, k.token = $token, k.digest = $digest
RETURN k.received AS received, k.written AS written, k.digest AS digest, k.token AS token
