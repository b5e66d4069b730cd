// Removes up to $limit MEMBER_OF relationships of one run's clusters (called until 0).
MATCH (:Account)-[m:MEMBER_OF]->(c:Cluster {runId: $runId})
WITH m LIMIT $limit
DELETE m
RETURN count(*) AS deleted
