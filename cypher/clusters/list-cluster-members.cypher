// One page of a cluster's members (in run $runId), by account id after $afterId.
MATCH (c:Cluster {key: $runId + '/' + $clusterId})<-[:MEMBER_OF]-(a:Account)
WHERE $afterId IS NULL OR a.id > $afterId
RETURN a {.id, .signupAt, .firstSeen, .lastSeen, .requests} AS member
ORDER BY a.id
LIMIT $limit
