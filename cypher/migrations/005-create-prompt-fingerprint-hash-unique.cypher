CREATE CONSTRAINT prompt_fingerprint_hash_unique IF NOT EXISTS FOR (n:PromptFingerprint) REQUIRE n.hash IS UNIQUE
