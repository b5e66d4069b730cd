CREATE INDEX ingested_batch_key_stored_at IF NOT EXISTS FOR (n:IngestedBatchKey) ON (n.storedAt)
