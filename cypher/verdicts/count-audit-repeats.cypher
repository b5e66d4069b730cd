// Refusals (429) of the same actor and action within a window of the stored one: counted
// on its entry instead of one entry each (each still has its log line).
MATCH (e:AuditEntry {id: $id})
SET e.repeats = coalesce(e.repeats, 0) + $repeats
