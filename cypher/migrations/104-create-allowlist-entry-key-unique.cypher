CREATE CONSTRAINT allowlist_entry_key_unique IF NOT EXISTS FOR (n:AllowlistEntry) REQUIRE n.key IS UNIQUE
