// One page of run $runId's clusters, riskiest first (risk DESC, id ASC: a total
// order, so keyset paging after ($afterRisk, $afterId) never skips or repeats).
MATCH (c:Cluster)
WHERE c.runId = $runId
  AND c.risk >= $minRisk
  AND c.size >= $minSize
  AND ($flagged IS NULL OR c.flagged = $flagged)
  AND ($afterRisk IS NULL OR c.risk < $afterRisk OR (c.risk = $afterRisk AND c.id > $afterId))
RETURN c {.id, .risk, .flagged, .size, .rank, .reasons, .change} AS cluster
ORDER BY c.risk DESC, c.id ASC
LIMIT $limit
