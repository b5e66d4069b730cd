// One audit record: who did what (an investigation, ad-hoc Cypher, a verdict, an
// allow-list add or delete), with which parameters (a JSON string), when (epoch ms) and
// how it ended. MERGE on the id (made before the transaction function): a retried commit
// that had gone through leaves one entry, not two.
MERGE (e:AuditEntry {id: $id})
ON CREATE SET e += {
  actor: $actor,
  role: $role,
  action: $action,
  target: $target,
  params: $params,
  outcome: $outcome,
  at: $at
}
