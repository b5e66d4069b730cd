// Every verdict recorded on a cluster (by stable id, any run), oldest first.
MATCH (v:Verdict {clusterId: $clusterId})
RETURN v {.id, .clusterId, .runId, .verdict, .note, .by, .at} AS verdict
ORDER BY v.at, v.id
