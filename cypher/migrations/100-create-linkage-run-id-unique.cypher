CREATE CONSTRAINT linkage_run_id_unique IF NOT EXISTS FOR (n:LinkageRun) REQUIRE n.id IS UNIQUE
