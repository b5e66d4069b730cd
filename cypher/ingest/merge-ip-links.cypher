// (:Account)-[:CONNECTED_FROM {count, firstSeen, lastSeen}]->(:IP)-[:IN_SUBNET]->(:Subnet)
// One row per (account, IP), rows sorted by IP. Each IP is merged and its first/last
// seen folded in the row that meets it, a write that takes its exclusive lock: IPs
// are locked in address order, and concurrent batches lock them in one global order
// however the rows are split. The subnets come first, in order, with a write of their
// own (version counts the batches that touched it); only the first statement of a
// batch carries them.
CALL {
  UNWIND $subnets AS cidr
  MERGE (s:Subnet {cidr: cidr})
    ON CREATE SET s.version = 0
  SET s.version = s.version + 1
}
UNWIND $rows AS r
MATCH (a:Account {id: r.accountId})
MERGE (x:IP {address: r.value})
  ON CREATE SET x.firstSeen = toInteger(r.firstSeen), x.lastSeen = toInteger(r.lastSeen), x.subnet = r.subnet
SET x.firstSeen = CASE WHEN r.firstSeen < x.firstSeen THEN toInteger(r.firstSeen) ELSE x.firstSeen END,
    x.lastSeen = CASE WHEN r.lastSeen > x.lastSeen THEN toInteger(r.lastSeen) ELSE x.lastSeen END
WITH a, x, r
CALL {
  WITH x, r
  MATCH (s:Subnet {cidr: r.subnet})
  MERGE (x)-[:IN_SUBNET]->(s)
}
MERGE (a)-[l:CONNECTED_FROM]->(x)
  ON CREATE SET l.count = 0, l.firstSeen = toInteger(r.firstSeen), l.lastSeen = toInteger(r.lastSeen)
SET l.count = l.count + toInteger(r.count),
    l.firstSeen = CASE WHEN r.firstSeen < l.firstSeen THEN toInteger(r.firstSeen) ELSE l.firstSeen END,
    l.lastSeen = CASE WHEN r.lastSeen > l.lastSeen THEN toInteger(r.lastSeen) ELSE l.lastSeen END
