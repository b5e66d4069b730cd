CREATE CONSTRAINT ingested_batch_token_unique IF NOT EXISTS FOR (n:IngestedBatch) REQUIRE n.token IS UNIQUE
