// (:Account)-[:CONNECTED_FROM {count, firstSeen, lastSeen}]->(:IP)-[:IN_SUBNET]->(:Subnet)
// One row per (account, IP), rows sorted by IP. Each IP is merged and its first/last
// seen folded in the row that meets it, a write that takes its exclusive lock: IPs
// are locked in address order, and concurrent batches lock them in one global order
// however the rows are split. The subnets come first, in order, with a write of their
// own (version counts the batches that touched it); only the first statement of a
// batch carries them.
CALL () {
  UNWIND $subnets AS cidr
  MERGE (s:Subnet {cidr: cidr})
    ON CREATE SET s.version = 0
  SET s.version = s.version + 1
}
// Rows come as lists (cheaper to send than maps; writer.ts encodes them): the WITH names the fields.
UNWIND $rows AS row
WITH row[0] AS accountId, row[1] AS value, row[2] AS events, row[3] AS firstSeen, row[4] AS lastSeen, row[5] AS subnet
MATCH (a:Account {id: accountId})
MERGE (x:IP {address: value})
  ON CREATE SET x.firstSeen = toInteger(firstSeen), x.lastSeen = toInteger(lastSeen), x.subnet = subnet
SET x.firstSeen = CASE WHEN firstSeen < x.firstSeen THEN toInteger(firstSeen) ELSE x.firstSeen END,
    x.lastSeen = CASE WHEN lastSeen > x.lastSeen THEN toInteger(lastSeen) ELSE x.lastSeen END
WITH a, x, events, firstSeen, lastSeen, subnet
CALL (x, subnet) {
  MATCH (s:Subnet {cidr: subnet})
  MERGE (x)-[:IN_SUBNET]->(s)
}
MERGE (a)-[l:CONNECTED_FROM]->(x)
  ON CREATE SET l.count = 0, l.firstSeen = toInteger(firstSeen), l.lastSeen = toInteger(lastSeen)
SET l.count = l.count + toInteger(events),
    l.firstSeen = CASE WHEN firstSeen < l.firstSeen THEN toInteger(firstSeen) ELSE l.firstSeen END,
    l.lastSeen = CASE WHEN lastSeen > l.lastSeen THEN toInteger(lastSeen) ELSE l.lastSeen END
