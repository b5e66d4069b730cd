// One page of accounts in id order (the unique index serves both the range and the
// order), with everything a linkage run needs about each: facts, what it shares
// (per kind, with the events behind each link), models used and capabilities.
// Subnets come with the IP (ip.subnet, which ingest sets with IN_SUBNET) and are summed per
// account in code: no extra expansion per IP link.
MATCH (a:Account)
WHERE a.id > $after
WITH a ORDER BY a.id ASC LIMIT $limit
RETURN a.id AS id, a.signupAt AS signupAt, a.firstSeen AS firstSeen, a.lastSeen AS lastSeen,
       coalesce(a.requests, 0) AS requests, coalesce(a.hourKeys, []) AS hourKeys,
       coalesce(a.hourCounts, []) AS hourCounts, a.emailDomain AS emailDomain, a.org AS org,
       COLLECT { MATCH (a)-[r:PAID_WITH]->(x:PaymentMethod) RETURN [x.fingerprint, r.count] } AS payment,
       COLLECT { MATCH (a)-[r:USED_DEVICE]->(x:Device) RETURN [x.fingerprint, r.count] } AS device,
       COLLECT { MATCH (a)-[r:CONNECTED_FROM]->(x:IP)
                 RETURN [x.address, r.count, x.subnet] } AS ip,
       COLLECT { MATCH (a)-[r:SENT]->(x:PromptFingerprint) RETURN [x.hash, r.count] } AS prompt,
       COLLECT { MATCH (a)-[r:HAS_EMAIL_DOMAIN]->(x:EmailDomain) RETURN [x.name, r.count] } AS emailDomains,
       COLLECT { MATCH (a)-[r:IN_ORG]->(x:Org) RETURN [x.id, r.count] } AS orgs,
       COLLECT { MATCH (a)-[u:USED_MODEL]->(m:Model)
                 RETURN [m.name, u.count, u.firstUse, coalesce(u.hourKeys, []), coalesce(u.hourCounts, [])] } AS models,
       COLLECT { MATCH (a)-[q:REQUESTED]->(c:Capability) RETURN [c.name, q.count] } AS capabilities
ORDER BY id ASC
