// Refusals (429) of the same actor and action within a window of the stored one: counted
// on its entry instead of one entry each (each still has its log line). One count per
// window, set rather than added, so a retried commit that had gone through counts once.
MATCH (e:AuditEntry {id: $id})
SET e.repeats = $repeats
