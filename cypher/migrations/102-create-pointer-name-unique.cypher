CREATE CONSTRAINT pointer_name_unique IF NOT EXISTS FOR (n:Pointer) REQUIRE n.name IS UNIQUE
