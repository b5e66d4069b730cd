// @description The shortest chain of shared identifiers (payment, device, IP, subnet, prompt, email domain, org) between two accounts, up to 12 hops. An identifier that more than maxShared accounts link to (for a subnet: the accounts on its IPs, counted per IP) is not passed through: a webmail domain or a carrier NAT joins nearly everyone, says nothing, and would make the search expand through all of its holders. `aged`: whether the current run left out a link of the chain as aged, so linked nothing through it (null when that turns on a link seen again since that run); `via` holds each hop's kind and last sighting.
// @param fromAccountId account
// @param toAccountId account
// @param maxShared int 2.. = 1000
// @check fromAccountId != toAccountId
// @aged each via
MATCH (a:Account {id: $fromAccountId})
MATCH (b:Account {id: $toAccountId})
WHERE a <> b
// The hub test sits inside the pattern, so the search never expands a hub; as a filter on
// a shortestPath() it is applied to paths after the search (480,173 db hits against
// 40,302 for a hub of 20,000 accounts).
// A subnet's own links are its IPs (at most 256 in a /24): counted by them, a carrier /24
// of 250 addresses each behind 900 accounts was never a hub (review, 12-07). Its accounts
// are summed over its IPs' degrees instead, without reading their relationships.
MATCH p = ANY SHORTEST (a)
  (()-[:PAID_WITH|USED_DEVICE|CONNECTED_FROM|SENT|HAS_EMAIL_DOMAIN|IN_ORG|IN_SUBNET]-(n)
    WHERE n:Account
      OR (NOT n:Subnet AND COUNT { (n)<--() } <= $maxShared)
      OR (n:Subnet AND reduce(s = 0, d IN COLLECT {
            MATCH (n)<-[:IN_SUBNET]-(ip:IP) RETURN COUNT { (ip)<-[:CONNECTED_FROM]-() } AS d
          } | s + d) <= $maxShared)){1,12}
  (b)
// `via`: each hop's relationship, how often and when last it was seen, and the kind of
// link it is (a subnet's ages with its IPs'); not the whole path, whose relationships
// carry hour series an analyst does not need here.
RETURN length(p) AS hops,
  [n IN nodes(p) | labels(n)[0] + ':' + coalesce(n.id, n.fingerprint, n.address, n.cidr, n.hash, n.name)] AS chain,
  [r IN relationships(p) | {type: type(r), count: r.count, lastSeen: r.lastSeen,
    kind: CASE type(r)
      WHEN 'PAID_WITH' THEN 'payment'
      WHEN 'USED_DEVICE' THEN 'device'
      WHEN 'CONNECTED_FROM' THEN 'ip'
      WHEN 'SENT' THEN 'prompt'
      WHEN 'HAS_EMAIL_DOMAIN' THEN 'email_domain'
      WHEN 'IN_ORG' THEN 'org'
      ELSE 'subnet' END}] AS via
