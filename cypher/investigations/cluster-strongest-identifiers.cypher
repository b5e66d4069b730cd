// @description A cluster's strongest shared identifiers in the database's current run (runId on each row; a replica's cluster pages may still show the run before): values held by at least two members, weighted by rarity (members / log(accounts holding it + 5), as FRAUDAR weights columns). Allow-listed values are not left out; subnets are not listed (their IPs are). `aged`: whether the current run linked no two members through the value, all but one of the members' links to it aged (null when that turns on a link seen again since that run); `linkLastSeen` holds the members' links to it: their kind, each one's last sighting, and how many have none (those never age).
// @param clusterId cluster
// @param limit int 1..10000 = 20
// @aged shared linkLastSeen
MATCH (p:Pointer {name: 'current'})
MATCH (c:Cluster {key: p.runId + '/' + $clusterId})<-[:MEMBER_OF]-(a:Account)
MATCH (a)-[r:PAID_WITH|USED_DEVICE|CONNECTED_FROM|SENT|HAS_EMAIL_DOMAIN|IN_ORG]->(x)
// Values one account holds go before grouping, by their stored degree (a member's
// thousands of one-off prompts would otherwise each be a group).
WHERE COUNT { (x)<--() } >= 2
// One link per member and value: ingest merges an account's link to a value.
WITH p, c, x, type(r) AS type, count(DISTINCT a) AS members,
  collect(r.lastSeen) AS lastSeen, count(r) - count(r.lastSeen) AS undated
WHERE members >= 2
// By link type, read from the stored degrees (only accounts link to an identifier by these).
WITH p, c, x, members, lastSeen, undated,
  CASE type
    WHEN 'PAID_WITH' THEN 'payment'
    WHEN 'USED_DEVICE' THEN 'device'
    WHEN 'CONNECTED_FROM' THEN 'ip'
    WHEN 'SENT' THEN 'prompt'
    WHEN 'HAS_EMAIL_DOMAIN' THEN 'email_domain'
    ELSE 'org' END AS kind,
  COUNT { (x)<-[:PAID_WITH|USED_DEVICE|CONNECTED_FROM|SENT|HAS_EMAIL_DOMAIN|IN_ORG]-() } AS holders
RETURN kind,
  coalesce(x.fingerprint, x.address, x.hash, x.name, x.id) AS value,
  members, holders, toFloat(members) / c.size AS memberShare,
  toFloat(members) / log(holders + 5) AS strength,
  {kind: kind, lastSeen: lastSeen, undated: undated} AS linkLastSeen,
  p.runId AS runId
ORDER BY strength DESC, value, kind
LIMIT $limit
