// One page of run $runId's clusters as membership summaries, in id order (keyset
// paging after $afterId; '' for the first page), for the in-memory membership index.
// A range on the unique Cluster key (runId + "/" + id; '0' follows '/') holds exactly
// this run's clusters in id order, however many old runs' clusters are kept.
MATCH (c:Cluster)
WHERE c.key > $runId + '/' + $afterId AND c.key < $runId + '0'
WITH c ORDER BY c.key ASC LIMIT $limit
RETURN c.id AS id, c.risk AS risk, c.flagged AS flagged, c.size AS size, c.reasons AS reasons
