CREATE CONSTRAINT import_checkpoint_key_unique IF NOT EXISTS FOR (n:ImportCheckpoint) REQUIRE n.key IS UNIQUE
