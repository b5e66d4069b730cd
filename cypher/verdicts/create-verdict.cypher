// An analyst's verdict on a cluster (stable id) as seen in run $runId. MERGE on the id
// (made once per request, outside the transaction function, or from the client's
// Idempotency-Key): a retried commit that had gone through finds its verdict instead of
// recording a second one. auditId names the entry that recorded it, which a resend under
// the same key answers from.
MERGE (v:Verdict {id: $id})
ON CREATE SET v += {clusterId: $clusterId, runId: $runId, verdict: $verdict, note: $note,
                    by: $by, at: $at, auditId: $auditId}
RETURN v {.id, .clusterId, .runId, .verdict, .note, .by, .at} AS verdict
