// When the driver runs a verdict's transaction again after a commit whose answer was
// lost: the audit entry that commit wrote ($auditId, made once per request) says what
// it did (e.g. which allow-list entries it created), and its verdict ($id) is the answer,
// whichever run is current by now.
OPTIONAL MATCH (done:AuditEntry {id: $auditId})
OPTIONAL MATCH (v:Verdict {id: $id})
RETURN done.params AS params,
       CASE WHEN v IS NULL THEN null
            ELSE v {.id, .clusterId, .runId, .verdict, .note, .by, .at} END AS verdict
