// Removes up to $limit MEMBER_OF relationships of one run's clusters (called until 0).
// Never the current run's: a caller that read an old pointer (e.g. from a cluster
// secondary) cannot empty the clusters readers see.
OPTIONAL MATCH (p:Pointer {name: 'current', runId: $runId})
WITH p
WHERE p IS NULL
MATCH (:Account)-[m:MEMBER_OF]->(c:Cluster {runId: $runId})
WITH m LIMIT $limit
DELETE m
RETURN count(*) AS deleted
