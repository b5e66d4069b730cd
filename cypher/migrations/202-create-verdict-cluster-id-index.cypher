CREATE INDEX verdict_cluster_id IF NOT EXISTS FOR (v:Verdict) ON (v.clusterId)
