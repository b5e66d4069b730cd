CREATE CONSTRAINT import_lock_file_unique IF NOT EXISTS FOR (l:ImportLock) REQUIRE l.file IS UNIQUE
