// An analyst's verdict on a cluster (stable id) as seen in run $runId. MERGE on the id
// (made once per request, outside the transaction function): a retried commit that had
// gone through finds its verdict instead of recording a second one.
MERGE (v:Verdict {id: $id})
ON CREATE SET v += {clusterId: $clusterId, runId: $runId, verdict: $verdict, note: $note,
                    by: $by, at: $at}
RETURN v {.id, .clusterId, .runId, .verdict, .note, .by, .at} AS verdict
