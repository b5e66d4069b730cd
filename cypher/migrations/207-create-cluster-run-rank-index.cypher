CREATE INDEX cluster_run_rank IF NOT EXISTS FOR (c:Cluster) ON (c.runId, c.rank)
