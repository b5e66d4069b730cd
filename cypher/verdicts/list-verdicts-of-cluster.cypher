// One cluster's verdicts for export, oldest first, keyset-paged by (at, id): as
// list-verdicts, from the Verdict(clusterId, at) index (migration 208): a filter on the
// export's own query could not seek on the cluster, and would read every verdict since
// $since for each page. The hint: given the choice, the planner took Verdict(at) for its
// order.
MATCH (v:Verdict {clusterId: $clusterId})
USING INDEX v:Verdict(clusterId, at)
WHERE v.at >= $since
  AND ($verdict IS NULL OR v.verdict = $verdict)
  AND ($afterAt IS NULL OR v.at > $afterAt OR (v.at = $afterAt AND v.id > $afterId))
RETURN v {.id, .clusterId, .runId, .verdict, .note, .by, .at} AS verdict
ORDER BY v.at, v.id
LIMIT $limit
