// One page of accounts in id order (keyset paging after $afterId; '' for the first
// page; the unique index serves range and order) with each one's cluster id in run
// $runId ('' when it is in none), as two aligned lists in ONE row: decoding two
// lists is far cheaper than a record per account. For the in-memory membership index.
MATCH (a:Account)
WHERE a.id > $afterId
WITH a ORDER BY a.id ASC LIMIT $limit
WITH a.id AS id, [(a)-[:MEMBER_OF]->(c:Cluster) WHERE c.runId = $runId | c.id][0] AS clusterId
RETURN collect(id) AS ids, collect(coalesce(clusterId, '')) AS clusterIds
