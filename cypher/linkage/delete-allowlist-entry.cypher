// Removes the stored allow-list entries of one value, `$keys`: its key in today's spelling
// first, then those of the entries that spell it otherwise (an older `gmail.com.`, which a
// run reads as the same value). Returns what each held, with its key, for the audit
// trail: the first as `removed` (null when there was none), the others as `alsoRemoved`.
// `committedParams`: when the driver runs the transaction again after a commit whose
// answer was lost, the audit entry that commit wrote ($auditId, made once per request)
// with what it removed; that run then finds no entry, and answers what the commit did
// instead of 404.
OPTIONAL MATCH (done:AuditEntry {id: $auditId})
OPTIONAL MATCH (e:AllowlistEntry) WHERE e.key IN $keys
WITH done, e ORDER BY e.key = $keys[0] DESC, e.key
WITH done, collect(e) AS found
WITH done, found, head([e IN found | e {.key, .source, .note, .addedBy, .addedAt}]) AS removed,
     [e IN tail(found) | e {.key, .source, .note, .addedBy, .addedAt}] AS alsoRemoved
// a run after a commit that went through deletes nothing: an entry found now was added since
FOREACH (e IN CASE WHEN done IS NULL THEN found ELSE [] END | DETACH DELETE e)
RETURN CASE WHEN done IS NULL THEN removed END AS removed,
       CASE WHEN done IS NULL THEN alsoRemoved ELSE [] END AS alsoRemoved,
       done.params AS committedParams
