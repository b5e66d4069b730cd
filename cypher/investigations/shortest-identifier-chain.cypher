// @description The shortest chain of shared identifiers (payment, device, IP, subnet, prompt, email domain, org) between two accounts, up to 12 hops.
// @param fromAccountId account
// @param toAccountId account
// @check fromAccountId != toAccountId
MATCH (a:Account {id: $fromAccountId})
MATCH (b:Account {id: $toAccountId})
WHERE a <> b
MATCH p = shortestPath((a)-[:PAID_WITH|USED_DEVICE|CONNECTED_FROM|SENT|HAS_EMAIL_DOMAIN|IN_ORG|IN_SUBNET*..12]-(b))
// `via`: each hop's relationship and how often it was seen; not the whole path, whose
// relationships carry hour series an analyst does not need here.
RETURN length(p) AS hops,
  [n IN nodes(p) | labels(n)[0] + ':' + coalesce(n.id, n.fingerprint, n.address, n.cidr, n.hash, n.name)] AS chain,
  [r IN relationships(p) | {type: type(r), count: r.count}] AS via
