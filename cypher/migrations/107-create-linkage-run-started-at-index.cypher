CREATE INDEX linkage_run_started_at IF NOT EXISTS FOR (n:LinkageRun) ON (n.startedAt)
