CREATE INDEX verdict_cluster_at IF NOT EXISTS FOR (v:Verdict) ON (v.clusterId, v.at)
