// One page of accounts in id order (keyset paging after $afterId; '' for the first
// page; the unique index serves range and order) with each one's cluster id in run
// $runId ('' when it is in none), as two aligned lists in ONE row: decoding two
// lists is far cheaper than a record per account. For the in-memory membership index.
// The cluster is found by expanding from the account (it has at most one MEMBER_OF
// per kept run) and filtering by run in the list: with the label and runId in the
// pattern the planner may seek every cluster of the run by the Cluster(runId) index
// for each account instead.
MATCH (a:Account)
WHERE a.id > $afterId
WITH a ORDER BY a.id ASC LIMIT $limit
WITH a.id AS id, [(a)-[:MEMBER_OF]->(c) | c] AS clusters
WITH id, [c IN clusters WHERE c.runId = $runId | c.id][0] AS clusterId
RETURN collect(id) AS ids, collect(coalesce(clusterId, '')) AS clusterIds
