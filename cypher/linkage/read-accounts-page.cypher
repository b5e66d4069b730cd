// One page of accounts in id order (the unique index serves both the range and the
// order), with everything a linkage run needs about each: facts, what it shares
// (per kind, with the events behind each link), models used and capabilities.
// Subnets come with the IP (ip.subnet, which ingest sets with IN_SUBNET) and are summed per
// account in code: no extra expansion per IP link.
// ONE expansion over the account's relationships, split by type in the projection: a
// typed expansion of a sparse node walks its whole relationship chain, so one
// subquery per type walked it eight times (about 30 % of this query's CPU at 1M
// accounts). The relationship type fixes the target's label in the ingest model.
// Ageing (src/linkage/link-age.ts): $notBefore gives per kind the earliest lastSeen a link
// may have (null: the kind never ages); older links are left out and counted in `aged`.
MATCH (a:Account)
WHERE a.id > $after
WITH a ORDER BY a.id ASC LIMIT $limit
WITH a, [(a)-[r:PAID_WITH|USED_DEVICE|CONNECTED_FROM|SENT|HAS_EMAIL_DOMAIN|IN_ORG|USED_MODEL|REQUESTED]->(x)
         | [type(r), r, x]] AS linked,
     {PAID_WITH: $notBefore.payment, USED_DEVICE: $notBefore.device,
      CONNECTED_FROM: $notBefore.ip, SENT: $notBefore.prompt,
      HAS_EMAIL_DOMAIN: $notBefore.email_domain, IN_ORG: $notBefore.org} AS notBefore
// `r.lastSeen < null` is null: a kind that never ages, or a link without lastSeen, stays.
WITH a, linked, [l IN linked WHERE NOT coalesce(l[1].lastSeen < notBefore[l[0]], false)] AS rels
RETURN a.id AS id, size(linked) - size(rels) AS aged, a.signupAt AS signupAt, a.firstSeen AS firstSeen, a.lastSeen AS lastSeen,
       coalesce(a.requests, 0) AS requests, coalesce(a.hourKeys, []) AS hourKeys,
       coalesce(a.hourCounts, []) AS hourCounts, a.emailDomain AS emailDomain, a.org AS org,
       [l IN rels WHERE l[0] = 'PAID_WITH' | [l[2].fingerprint, l[1].count]] AS payment,
       [l IN rels WHERE l[0] = 'USED_DEVICE' | [l[2].fingerprint, l[1].count]] AS device,
       [l IN rels WHERE l[0] = 'CONNECTED_FROM' | [l[2].address, l[1].count, l[2].subnet]] AS ip,
       [l IN rels WHERE l[0] = 'SENT' | [l[2].hash, l[1].count]] AS prompt,
       [l IN rels WHERE l[0] = 'HAS_EMAIL_DOMAIN' | [l[2].name, l[1].count]] AS emailDomains,
       [l IN rels WHERE l[0] = 'IN_ORG' | [l[2].id, l[1].count]] AS orgs,
       [l IN rels WHERE l[0] = 'USED_MODEL'
        | [l[2].name, l[1].count, l[1].firstUse, coalesce(l[1].hourKeys, []), coalesce(l[1].hourCounts, [])]] AS models,
       [l IN rels WHERE l[0] = 'REQUESTED' | [l[2].name, l[1].count]] AS capabilities
ORDER BY id ASC
