// Whether a keyed batch committed, by its marker (merge-batch-key): its counts, digest and
// token, or nulls when no batch under the key ever committed.
OPTIONAL MATCH (k:IngestedBatchKey {key: $key})
RETURN k.received AS received, k.written AS written, k.digest AS digest, k.token AS token
