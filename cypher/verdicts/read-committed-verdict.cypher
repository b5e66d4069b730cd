// When the driver runs a verdict's transaction again after a commit whose answer was
// lost: the audit entry that commit wrote ($auditId, made once per request) says what
// it did (e.g. which allow-list entries it created), and its verdict ($id) is the answer,
// whichever run is current by now. A client's resend under the same Idempotency-Key
// ($id from the key) finds the verdict and the entry of the request that recorded it.
OPTIONAL MATCH (done:AuditEntry {id: $auditId})
OPTIONAL MATCH (v:Verdict {id: $id})
OPTIONAL MATCH (first:AuditEntry {id: v.auditId})
RETURN done.params AS params,
       CASE WHEN v IS NULL THEN null
            ELSE v {.id, .clusterId, .runId, .verdict, .note, .by, .at} END AS verdict,
       v.auditId AS firstAuditId, first.params AS firstParams
