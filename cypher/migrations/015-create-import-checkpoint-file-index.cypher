CREATE INDEX import_checkpoint_file IF NOT EXISTS FOR (n:ImportCheckpoint) ON (n.file)
