CREATE CONSTRAINT ingested_batch_key_unique IF NOT EXISTS FOR (n:IngestedBatchKey) REQUIRE n.key IS UNIQUE
