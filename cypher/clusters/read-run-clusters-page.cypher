// One page of run $runId's clusters as membership summaries, in id order (keyset
// paging after $afterId; '' for the first page), for the in-memory membership index.
MATCH (c:Cluster)
WHERE c.runId = $runId AND c.id > $afterId
WITH c ORDER BY c.id ASC LIMIT $limit
RETURN c.id AS id, c.risk AS risk, c.flagged AS flagged, c.size AS size, c.reasons AS reasons
ORDER BY id ASC
