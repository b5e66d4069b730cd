// Adds (or updates the note of) a known-benign shared value; applied at the next run.
MERGE (e:AllowlistEntry {key: $key})
  ON CREATE SET e.kind = $kind, e.value = $value, e.source = $source, e.addedBy = $addedBy,
                e.addedAt = $now
SET e.note = $note
RETURN e.kind AS kind, e.value AS value, e.source AS source, e.note AS note,
       e.addedBy AS addedBy, e.addedAt AS addedAt, e.addedAt = $now AS created
