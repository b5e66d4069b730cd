// Removes up to $limit clusters of a run that is neither current nor succeeded (a failed
// run's partial output); called until 0. A succeeded run's clusters stay for history.
MATCH (c:Cluster {runId: $runId})
WHERE NOT EXISTS { MATCH (:Pointer {name: 'current', runId: $runId}) }
  AND NOT EXISTS { MATCH (:LinkageRun {id: $runId, status: 'succeeded'}) }
WITH c LIMIT $limit
DETACH DELETE c
RETURN count(*) AS deleted
