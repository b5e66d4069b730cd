// One audit record: who did what (an investigation, ad-hoc Cypher, a verdict), with
// which parameters (a JSON string), when (epoch ms) and how it ended.
CREATE (e:AuditEntry {
  id: $id,
  actor: $actor,
  role: $role,
  action: $action,
  target: $target,
  params: $params,
  outcome: $outcome,
  at: $at
})
