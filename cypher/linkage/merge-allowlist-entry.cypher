// Adds a known-benign shared value; applied at the next run. A value already listed keeps
// its source and who added it first and when; its note is replaced only when the request
// gave one ($setNote; an empty note clears it, $note null), so re-adding a value without
// a note keeps the note it had (a verdict's "verdict <id>: …" too).
MERGE (e:AllowlistEntry {key: $key})
  ON CREATE SET e.kind = $kind, e.value = $value, e.source = $source, e.addedBy = $addedBy,
                e.addedAt = $now, e.note = $note
  ON MATCH SET e.note = CASE WHEN $setNote THEN $note ELSE e.note END
RETURN e.kind AS kind, e.value AS value, e.source AS source, e.note AS note,
       e.addedBy AS addedBy, e.addedAt AS addedAt, e.addedAt = $now AS created
