// Adds a known-benign shared value; applied at the next run. A value already listed keeps
// its source and who added it first and when; its note is replaced only when the request
// gave one ($setNote; an empty note clears it, $note null), so re-adding a value without
// a note keeps the note it had (a verdict's "verdict <id>: …" too).
// `created`: this call added the entry (marked ON CREATE, the mark removed again, as
// verdicts/merge-allowlist-entries does), not another add in the same millisecond.
// `committedParams`: when the driver runs the transaction again after a commit whose
// answer was lost, the audit entry that commit wrote ($auditId, made once per request)
// with what it did; that run then only finds the entry it created.
OPTIONAL MATCH (done:AuditEntry {id: $auditId})
MERGE (e:AllowlistEntry {key: $key})
  ON CREATE SET e.kind = $kind, e.value = $value, e.source = $source, e.addedBy = $addedBy,
                e.addedAt = $now, e.note = $note, e.created = true
  ON MATCH SET e.note = CASE WHEN $setNote THEN $note ELSE e.note END
WITH e, done, coalesce(e.created, false) AS created
REMOVE e.created
RETURN e.kind AS kind, e.value AS value, e.source AS source, e.note AS note,
       e.addedBy AS addedBy, e.addedAt AS addedAt, created, done.params AS committedParams
