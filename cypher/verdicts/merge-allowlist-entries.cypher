// Allow-lists shared values from a benign verdict for the next run; values already
// allow-listed keep their original entry. Returns every entry, `created` when this call added it.
UNWIND $entries AS e
MERGE (x:AllowlistEntry {key: e.kind + ':' + e.value})
  ON CREATE SET x.kind = e.kind, x.value = e.value, x.source = 'verdict', x.note = $note,
                x.addedBy = $by, x.addedAt = $at, x.created = true
WITH x, coalesce(x.created, false) AS created
REMOVE x.created
RETURN x.kind AS kind, x.value AS value, created
