// When the driver runs a verdict's transaction again after a commit whose answer was
// lost: the audit entry that commit wrote ($auditId, made once per request) says what
// it did, e.g. which allow-list entries it created (this run only finds them).
OPTIONAL MATCH (done:AuditEntry {id: $auditId})
RETURN done.params AS params
