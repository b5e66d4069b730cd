// @description The shortest chain of shared identifiers (payment, device, IP, subnet, prompt, email domain, org) between two accounts, up to 12 hops. An identifier that more than maxShared accounts (or, for a subnet, IPs) link to is not passed through: a webmail domain or a carrier NAT joins nearly everyone, says nothing, and would make the search expand through all of its holders.
// @param fromAccountId account
// @param toAccountId account
// @param maxShared int 2.. = 1000
// @check fromAccountId != toAccountId
MATCH (a:Account {id: $fromAccountId})
MATCH (b:Account {id: $toAccountId})
WHERE a <> b
// The hub test sits inside the pattern, so the search never expands a hub; as a filter on
// a shortestPath() it is applied to paths after the search (480,173 db hits against
// 40,302 for a hub of 20,000 accounts).
MATCH p = ANY SHORTEST (a)
  (()-[:PAID_WITH|USED_DEVICE|CONNECTED_FROM|SENT|HAS_EMAIL_DOMAIN|IN_ORG|IN_SUBNET]-(n)
    WHERE n:Account OR COUNT { (n)<--() } <= $maxShared){1,12}
  (b)
// `via`: each hop's relationship and how often it was seen; not the whole path, whose
// relationships carry hour series an analyst does not need here.
RETURN length(p) AS hops,
  [n IN nodes(p) | labels(n)[0] + ':' + coalesce(n.id, n.fingerprint, n.address, n.cidr, n.hash, n.name)] AS chain,
  [r IN relationships(p) | {type: type(r), count: r.count}] AS via
