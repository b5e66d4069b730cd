CREATE INDEX import_checkpoint_head IF NOT EXISTS FOR (n:ImportCheckpoint) ON (n.head)
