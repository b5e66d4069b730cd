CREATE INDEX ingested_batch_stored_at IF NOT EXISTS FOR (n:IngestedBatch) ON (n.storedAt)
