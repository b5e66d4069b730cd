// Whether a write committed, by its marker (merge-ingested-batch): the counts it answered,
// or nulls when it never committed. For a group whose commit may have gone through while
// every answer the driver got was an error.
OPTIONAL MATCH (b:IngestedBatch {token: $token})
RETURN b.received AS received, b.written AS written
