CREATE INDEX cluster_id IF NOT EXISTS FOR (n:Cluster) ON (n.id)
