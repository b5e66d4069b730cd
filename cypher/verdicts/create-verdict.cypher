// An analyst's verdict on a cluster (stable id) as seen in run $runId.
CREATE (v:Verdict {id: $id, clusterId: $clusterId, runId: $runId, verdict: $verdict, note: $note, by: $by, at: $at})
RETURN v {.id, .clusterId, .runId, .verdict, .note, .by, .at} AS verdict
