CREATE INDEX cluster_run_risk IF NOT EXISTS FOR (c:Cluster) ON (c.runId, c.risk)
