// One batch of (:Account)-[:MEMBER_OF]->(:Cluster) for a run's clusters; a big
// cluster's members span several batches.
UNWIND $rows AS r
MATCH (c:Cluster {key: r.key})
UNWIND r.members AS accountId
MATCH (a:Account {id: accountId})
MERGE (a)-[:MEMBER_OF]->(c)
// What was written, for the run's stats (an account deleted since extract is not).
RETURN count(*) AS written
