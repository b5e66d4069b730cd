// @description A cluster's strongest shared identifiers in the current run as this service last read it, the run whose ages say `aged` (runId on each row; for a second after a run is published, or CURRENT_RUN_CHECK_MS, still the run before): values held by at least two members, weighted by rarity (members / log(accounts holding it + 5), as FRAUDAR weights columns). Allow-listed values are not left out; subnets are not listed (their IPs are). `aged`: whether age is why the current run linked no two members through the value, all but at most one of the members' links to it aged (null when that turns on a link seen again since that run); `linkAges` counts the members' links to it (`links`), those that run aged (`agedLinks`) and those seen again since it (`seenSince`).
// @param clusterId cluster
// @param limit int 1..10000 = 20
// @aged shared linkAges
// $runId from the service: the run whose ages it passes, not the pointer read here, which
// may have moved on since (review, 12-07: rows of one run judged by another's ages).
MATCH (c:Cluster {key: $runId + '/' + $clusterId})<-[:MEMBER_OF]-(a:Account)
MATCH (a)-[r:PAID_WITH|USED_DEVICE|CONNECTED_FROM|SENT|HAS_EMAIL_DOMAIN|IN_ORG]->(x)
// Values one account holds go before grouping, by their stored degree (a member's
// thousands of one-off prompts would otherwise each be a group).
WHERE COUNT { (x)<--() } >= 2
WITH c, a, r, x,
  CASE type(r)
    WHEN 'PAID_WITH' THEN 'payment'
    WHEN 'USED_DEVICE' THEN 'device'
    WHEN 'CONNECTED_FROM' THEN 'ip'
    WHEN 'SENT' THEN 'prompt'
    WHEN 'HAS_EMAIL_DOMAIN' THEN 'email_domain'
    ELSE 'org' END AS kind
// Links judged as extract judged them ($agedNotBefore from the service: the run's ages; a
// kind it did not age is null there). A lastSeen that is null or not a number compares
// as null: never aged. One link per member and value (ingest merges them).
WITH c, x, kind, count(DISTINCT a) AS members, count(r) AS links,
  count(CASE WHEN r.lastSeen < $agedNotBefore[kind] THEN 1 END) AS agedLinks,
  count(CASE WHEN $agedNotBefore[kind] IS NOT NULL AND r.lastSeen > $agedAsOf THEN 1 END) AS seenSince
WHERE members >= 2
// By link type, read from the stored degrees (only accounts link to an identifier by these).
WITH c, x, kind, members, links, agedLinks, seenSince,
  COUNT { (x)<-[:PAID_WITH|USED_DEVICE|CONNECTED_FROM|SENT|HAS_EMAIL_DOMAIN|IN_ORG]-() } AS holders
RETURN kind,
  coalesce(x.fingerprint, x.address, x.hash, x.name, x.id) AS value,
  members, holders, toFloat(members) / c.size AS memberShare,
  toFloat(members) / log(holders + 5) AS strength,
  {links: links, agedLinks: agedLinks, seenSince: seenSince} AS linkAges,
  $runId AS runId
ORDER BY strength DESC, value, kind
LIMIT $limit
