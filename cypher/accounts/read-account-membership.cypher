// An account and its cluster in run $runId (null when it is in none, or $runId is null).
// No row at all when the account is unknown.
MATCH (a:Account {id: $accountId})
OPTIONAL MATCH (a)-[:MEMBER_OF]->(c:Cluster)
  WHERE c.runId = $runId
RETURN a.id AS accountId, c {.id, .risk, .flagged, .size, .reasons} AS cluster
LIMIT 1
