// Verdicts for export, oldest first, keyset-paged by (at, id).
MATCH (v:Verdict)
WHERE v.at >= $since
  AND ($verdict IS NULL OR v.verdict = $verdict)
  AND ($afterAt IS NULL OR v.at > $afterAt OR (v.at = $afterAt AND v.id > $afterId))
RETURN v {.id, .clusterId, .runId, .verdict, .note, .by, .at} AS verdict
ORDER BY v.at, v.id
LIMIT $limit
