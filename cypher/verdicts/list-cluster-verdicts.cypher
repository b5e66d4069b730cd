// The latest $limit verdicts recorded on a cluster (by stable id, any run), newest first,
// with how many it has in all: GET /v1/verdicts?clusterId= pages every one.
// Up to the run whose version the detail shows ($upToRunId), as its history is: a replica
// not yet on a newer run must not list a verdict recorded on it (review, 12-05). A verdict
// names the run current when it was recorded; runs in swap order (list-cluster-history).
OPTIONAL MATCH (shown:LinkageRun {id: $upToRunId})
WITH coalesce(shown.finishedAt, shown.startedAt) AS upTo, shown.id AS upToId
MATCH (v:Verdict {clusterId: $clusterId})
OPTIONAL MATCH (r:LinkageRun {id: v.runId})
WITH upTo, upToId, v, coalesce(r.finishedAt, r.startedAt) AS at
WHERE upTo IS NULL OR at IS NULL OR at < upTo OR (at = upTo AND v.runId <= upToId)
WITH v
ORDER BY v.at DESC, v.id DESC
WITH count(v) AS total, collect(v)[..$limit] AS latest
UNWIND latest AS v
RETURN total, v {.id, .clusterId, .runId, .verdict, .note, .by, .at} AS verdict
