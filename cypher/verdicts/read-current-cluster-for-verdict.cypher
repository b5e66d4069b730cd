// The current run's version of a cluster, with the shared values a benign verdict may allow-list.
MATCH (p:Pointer {name: 'current'})
MATCH (c:Cluster {key: p.runId + '/' + $clusterId})
RETURN c.runId AS runId, c.sharedIdentifiers AS sharedIdentifiers
