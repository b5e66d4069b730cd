CREATE CONSTRAINT capability_name_unique IF NOT EXISTS FOR (n:Capability) REQUIRE n.name IS UNIQUE
