// Removes up to $limit clusters of a run that is not current (a failed run's partial
// output); called until 0. The current run's clusters are never touched.
MATCH (c:Cluster {runId: $runId})
WHERE NOT EXISTS { MATCH (:Pointer {name: 'current', runId: $runId}) }
WITH c LIMIT $limit
DETACH DELETE c
RETURN count(*) AS deleted
