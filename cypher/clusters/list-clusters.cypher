// One page of run $runId's clusters in rank order: 1 = riskiest, then larger, then id,
// as publish ranks them. A rank is unique within a run (a total order), so keyset
// paging after $afterRank never skips or repeats.
MATCH (c:Cluster)
USING INDEX c:Cluster(runId, rank)
WHERE c.runId = $runId
  AND c.risk >= $minRisk
  AND c.size >= $minSize
  AND ($flagged IS NULL OR c.flagged = $flagged)
  AND c.rank > coalesce($afterRank, 0)
RETURN c {.id, .risk, .flagged, .size, .rank, .reasons, .change} AS cluster
ORDER BY c.runId ASC, c.rank ASC
LIMIT $limit
