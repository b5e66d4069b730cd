// One cluster's verdicts for export, oldest first, keyset-paged by (at, id), as
// list-verdicts does for all. The cluster's verdicts are found alone, in a subquery: with
// the page's predicates and order beside it the planner took Verdict(at) for the order
// (reading every verdict since $since), or scanned an index it was told to use.
CALL () {
  MATCH (v:Verdict {clusterId: $clusterId})
  RETURN v
}
WITH v
WHERE v.at >= $since
  AND ($verdict IS NULL OR v.verdict = $verdict)
  AND ($afterAt IS NULL OR v.at > $afterAt OR (v.at = $afterAt AND v.id > $afterId))
RETURN v {.id, .clusterId, .runId, .verdict, .note, .by, .at} AS verdict
ORDER BY v.at, v.id
LIMIT $limit
