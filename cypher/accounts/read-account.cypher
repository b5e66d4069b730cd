// An account's profile: what it shares (with counts, first/last seen, and how many
// accounts hold the same value), its activity summary, models and capabilities; each
// list at most $maxIdentifiers long (the busiest first), with its full count beside it.
// Identifiers go most recent first, then by kind and value: one event's ip, card, prompt
// and device share their lastSeen, and the order decides which make the cut. The run of
// the account's membership ($runId, null before any) gives its recorded ages, for marking
// the links it left out as aged (src/linkage/link-age.ts).
MATCH (a:Account {id: $accountId})
RETURN a {.id, .firstSeen, .lastSeen, .signupAt, .requests, .emailDomain, .org} AS account,
  COLLECT {
    MATCH (a)-[r:PAID_WITH|USED_DEVICE|CONNECTED_FROM|SENT|HAS_EMAIL_DOMAIN|IN_ORG]->(x)
    WITH r, x,
      CASE type(r)
        WHEN 'PAID_WITH' THEN 'payment'
        WHEN 'USED_DEVICE' THEN 'device'
        WHEN 'CONNECTED_FROM' THEN 'ip'
        WHEN 'SENT' THEN 'prompt'
        WHEN 'HAS_EMAIL_DOMAIN' THEN 'email_domain'
        ELSE 'org' END AS kind,
      coalesce(x.fingerprint, x.address, x.hash, x.name, x.id) AS value
    ORDER BY r.lastSeen DESC, kind, value
    LIMIT $maxIdentifiers
    // Counted for the kept ones only, by link type (read from the stored degrees, not by
    // walking every holder): only accounts link to an identifier by these types.
    RETURN {
      kind: kind,
      value: value,
      subnet: x.subnet,
      count: r.count,
      firstSeen: r.firstSeen,
      lastSeen: r.lastSeen,
      accounts: COUNT { (x)<-[:PAID_WITH|USED_DEVICE|CONNECTED_FROM|SENT|HAS_EMAIL_DOMAIN|IN_ORG]-() }
    } AS identifier
    ORDER BY identifier.lastSeen DESC, identifier.kind, identifier.value
  } AS identifiers,
  COUNT { (a)-[:PAID_WITH|USED_DEVICE|CONNECTED_FROM|SENT|HAS_EMAIL_DOMAIN|IN_ORG]->() } AS identifierCount,
  COLLECT {
    MATCH (a)-[u:USED_MODEL]->(m:Model)
    RETURN {model: m.name, count: u.count, firstUse: u.firstUse, lastUse: u.lastUse} AS model
    ORDER BY u.count DESC, m.name
    LIMIT $maxIdentifiers
  } AS models,
  COUNT { (a)-[:USED_MODEL]->() } AS modelCount,
  COLLECT {
    MATCH (a)-[q:REQUESTED]->(k:Capability)
    RETURN {capability: k.name, count: q.count} AS capability
    ORDER BY q.count DESC, k.name
    LIMIT $maxIdentifiers
  } AS capabilities,
  COUNT { (a)-[:REQUESTED]->() } AS capabilityCount,
  COLLECT { MATCH (run:LinkageRun {id: $runId}) RETURN [run.params, run.stats] } AS run
