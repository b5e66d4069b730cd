// The outcome of an audited read (an investigation, ad-hoc Cypher): its entry was written
// with outcome "started" before it ran (create-audit-entry). MERGE on the id: when that
// first write failed, this one makes the entry whole; a retried commit sets the same values.
MERGE (e:AuditEntry {id: $id})
ON CREATE SET e += {
  actor: $actor,
  role: $role,
  action: $action,
  target: $target,
  params: $params,
  at: $at
}
SET e.outcome = $outcome, e.endedAt = $endedAt
