CREATE CONSTRAINT device_fingerprint_unique IF NOT EXISTS FOR (n:Device) REQUIRE n.fingerprint IS UNIQUE
