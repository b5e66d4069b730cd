// (:Account)-[:PAID_WITH {count, firstSeen, lastSeen}]->(:PaymentMethod): one aggregated relationship per pair.
UNWIND $rows AS r
MATCH (a:Account {id: r.accountId})
MERGE (x:PaymentMethod {fingerprint: r.value})
MERGE (a)-[l:PAID_WITH]->(x)
  ON CREATE SET l.count = 0, l.firstSeen = toInteger(r.firstSeen), l.lastSeen = toInteger(r.lastSeen)
SET l.count = l.count + toInteger(r.count),
    l.firstSeen = CASE WHEN r.firstSeen < l.firstSeen THEN toInteger(r.firstSeen) ELSE l.firstSeen END,
    l.lastSeen = CASE WHEN r.lastSeen > l.lastSeen THEN toInteger(r.lastSeen) ELSE l.lastSeen END
