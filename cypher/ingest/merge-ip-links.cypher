// (:Account)-[:CONNECTED_FROM {count, firstSeen, lastSeen}]->(:IP)-[:IN_SUBNET]->(:Subnet)
// Subnets, then IPs, are merged first in value order with a write that takes their
// exclusive locks up front: concurrent batches then lock in one global order.
CALL {
  UNWIND $subnets AS cidr
  MERGE (s:Subnet {cidr: cidr})
    ON CREATE SET s.version = 0
  SET s.version = s.version + 1
}
CALL {
  UNWIND $values AS v
  MERGE (ip:IP {address: v.value})
    ON CREATE SET ip.firstSeen = toInteger(v.firstSeen), ip.lastSeen = toInteger(v.lastSeen), ip.subnet = v.subnet
  SET ip.firstSeen = CASE WHEN v.firstSeen < ip.firstSeen THEN toInteger(v.firstSeen) ELSE ip.firstSeen END,
      ip.lastSeen = CASE WHEN v.lastSeen > ip.lastSeen THEN toInteger(v.lastSeen) ELSE ip.lastSeen END
  WITH ip, v
  MATCH (s:Subnet {cidr: v.subnet})
  MERGE (ip)-[:IN_SUBNET]->(s)
}
UNWIND $rows AS r
MATCH (a:Account {id: r.accountId})
MATCH (ip:IP {address: r.value})
MERGE (a)-[l:CONNECTED_FROM]->(ip)
  ON CREATE SET l.count = 0, l.firstSeen = toInteger(r.firstSeen), l.lastSeen = toInteger(r.lastSeen)
SET l.count = l.count + toInteger(r.count),
    l.firstSeen = CASE WHEN r.firstSeen < l.firstSeen THEN toInteger(r.firstSeen) ELSE l.firstSeen END,
    l.lastSeen = CASE WHEN r.lastSeen > l.lastSeen THEN toInteger(r.lastSeen) ELSE l.lastSeen END
