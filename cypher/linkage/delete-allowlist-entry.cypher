// Removes a stored allow-list entry; returns what it held (null when there was none),
// for the audit trail. `$keys`: the value's key in today's spelling first, then as sent,
// so an entry stored in an older spelling (`gmail.com.`), which GET lists as it is, can be
// removed by that value; both go when both are stored (a run reads them as one value).
// `committedParams`: when the driver runs the transaction again after a commit whose
// answer was lost, the audit entry that commit wrote ($auditId, made once per request)
// with what it removed; that run then finds no entry, and answers what the commit did
// instead of 404.
OPTIONAL MATCH (done:AuditEntry {id: $auditId})
OPTIONAL MATCH (e:AllowlistEntry) WHERE e.key IN $keys
WITH done, e ORDER BY e.key = $keys[0] DESC
WITH done, collect(e) AS found
WITH done, found, head([e IN found | e {.source, .note, .addedBy, .addedAt}]) AS removed
FOREACH (e IN found | DETACH DELETE e)
RETURN removed, done.params AS committedParams
