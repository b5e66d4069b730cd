CREATE INDEX cluster_run_id IF NOT EXISTS FOR (n:Cluster) ON (n.runId)
