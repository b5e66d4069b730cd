// (:Account)-[:CONNECTED_FROM {count, firstSeen, lastSeen}]->(:IP)-[:IN_SUBNET]->(:Subnet)
UNWIND $rows AS r
MATCH (a:Account {id: r.accountId})
MERGE (ip:IP {address: r.value})
  ON CREATE SET ip.subnet = r.subnet
MERGE (a)-[l:CONNECTED_FROM]->(ip)
  ON CREATE SET l.count = 0, l.firstSeen = toInteger(r.firstSeen), l.lastSeen = toInteger(r.lastSeen)
SET l.count = l.count + toInteger(r.count),
    l.firstSeen = CASE WHEN r.firstSeen < l.firstSeen THEN toInteger(r.firstSeen) ELSE l.firstSeen END,
    l.lastSeen = CASE WHEN r.lastSeen > l.lastSeen THEN toInteger(r.lastSeen) ELSE l.lastSeen END
WITH DISTINCT ip, r.subnet AS cidr
MERGE (s:Subnet {cidr: cidr})
MERGE (ip)-[:IN_SUBNET]->(s)
