// Removes a stored allow-list entry; returns what it held (null when there was none),
// for the audit trail.
OPTIONAL MATCH (e:AllowlistEntry {key: $key})
WITH e, e {.source, .note, .addedBy, .addedAt} AS removed
DETACH DELETE e
RETURN removed
