CREATE CONSTRAINT ingested_event_id_unique IF NOT EXISTS FOR (n:IngestedEvent) REQUIRE n.id IS UNIQUE
