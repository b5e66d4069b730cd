// A cluster (run $runId) as a graph: up to $maxAccounts members, and the identifiers
// at least two of them share (up to $maxIdentifiers, most shared first, then by value
// and kind: an org and an email domain may both be `acme.com`), with links.
// Identifiers held by one account (a bot's thousands of one-off prompts) are dropped by
// their degree before grouping: otherwise the grouping costs every link of every member.
// Each says whether it is allow-listed now ($allowlistKeys from config, or an entry):
// drawn, but it links no one at the next run. Links carry lastSeen; with the run's params
// and stats the service marks those the run left out as aged (src/linkage/link-age.ts).
MATCH (c:Cluster {key: $runId + '/' + $clusterId})
WITH c, COLLECT {
  MATCH (c)<-[:MEMBER_OF]-(a:Account)
  RETURN a.id AS id ORDER BY id LIMIT $maxAccounts
} AS accounts
RETURN c.size AS size, accounts, COLLECT {
  UNWIND accounts AS accountId
  MATCH (:Account {id: accountId})-[r:PAID_WITH|USED_DEVICE|CONNECTED_FROM|SENT|HAS_EMAIL_DOMAIN|IN_ORG]->(x)
  WHERE COUNT { (x)<--() } >= 2
  WITH x, type(r) AS type, collect({account: accountId, count: r.count, lastSeen: r.lastSeen}) AS links
  WHERE size(links) >= 2
  WITH x, links,
    CASE type
      WHEN 'PAID_WITH' THEN 'payment'
      WHEN 'USED_DEVICE' THEN 'device'
      WHEN 'CONNECTED_FROM' THEN 'ip'
      WHEN 'SENT' THEN 'prompt'
      WHEN 'HAS_EMAIL_DOMAIN' THEN 'email_domain'
      ELSE 'org' END AS kind,
    coalesce(x.fingerprint, x.address, x.hash, x.name, x.id) AS value
  ORDER BY size(links) DESC, value, kind
  LIMIT $maxIdentifiers + 1
  RETURN {
    kind: kind,
    value: value,
    links: links,
    allowlisted: kind + ':' + value IN $allowlistKeys
      OR EXISTS { (:AllowlistEntry {key: kind + ':' + value}) }
  } AS identifier
} AS identifiers,
// Listed prompt fingerprints, subnet ranges and e-mail domains: a prompt near one of
// them, an address in one of them, a domain spelled otherwise (an older graph's or
// entry's `gmail.com.`) is allow-listed too, as in a run (service.ts).
COLLECT {
  MATCH (e:AllowlistEntry) WHERE e.key STARTS WITH 'prompt:'
  RETURN e.value
} AS listedPrompts,
COLLECT {
  MATCH (e:AllowlistEntry) WHERE e.key STARTS WITH 'email_domain:'
  RETURN e.value
} AS listedDomains,
COLLECT {
  MATCH (e:AllowlistEntry) WHERE e.key STARTS WITH 'subnet:'
  RETURN e.value
} AS listedSubnets,
COLLECT { MATCH (run:LinkageRun {id: $runId}) RETURN [run.params, run.stats] } AS run
