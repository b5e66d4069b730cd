// Removes a stored allow-list entry; returns what it held (null when there was none),
// for the audit trail. `committedParams`: when the driver runs the transaction again
// after a commit whose answer was lost, the audit entry that commit wrote ($auditId,
// made once per request) with what it removed; that run then finds no entry, and
// answers what the commit did instead of 404.
OPTIONAL MATCH (done:AuditEntry {id: $auditId})
OPTIONAL MATCH (e:AllowlistEntry {key: $key})
WITH done, e, e {.source, .note, .addedBy, .addedAt} AS removed
DETACH DELETE e
RETURN removed, done.params AS committedParams
