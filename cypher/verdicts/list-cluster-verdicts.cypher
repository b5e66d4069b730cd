// The latest $limit verdicts recorded on a cluster (by stable id, any run), newest first,
// with how many it has in all: GET /v1/verdicts?clusterId= pages every one.
MATCH (v:Verdict {clusterId: $clusterId})
WITH count(v) AS total
MATCH (v:Verdict {clusterId: $clusterId})
WITH total, v
ORDER BY v.at DESC, v.id DESC
LIMIT $limit
RETURN total, v {.id, .clusterId, .runId, .verdict, .note, .by, .at} AS verdict
