CREATE INDEX ingested_event_stored_at IF NOT EXISTS FOR (n:IngestedEvent) ON (n.storedAt)
