// (:Account)-[:HAS_EMAIL_DOMAIN {count, firstSeen, lastSeen}]->(:EmailDomain): one aggregated relationship per pair.
UNWIND $rows AS r
MATCH (a:Account {id: r.accountId})
MERGE (x:EmailDomain {name: r.value})
MERGE (a)-[l:HAS_EMAIL_DOMAIN]->(x)
  ON CREATE SET l.count = 0, l.firstSeen = toInteger(r.firstSeen), l.lastSeen = toInteger(r.lastSeen)
SET l.count = l.count + toInteger(r.count),
    l.firstSeen = CASE WHEN r.firstSeen < l.firstSeen THEN toInteger(r.firstSeen) ELSE l.firstSeen END,
    l.lastSeen = CASE WHEN r.lastSeen > l.lastSeen THEN toInteger(r.lastSeen) ELSE l.lastSeen END
