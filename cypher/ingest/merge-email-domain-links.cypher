// (:Account)-[:HAS_EMAIL_DOMAIN {count, firstSeen, lastSeen}]->(:EmailDomain): one aggregated relationship per pair.
// The EmailDomain nodes are merged first, in value order, with a write (first/last seen) that takes
// their exclusive locks up front: concurrent batches then lock in one global order.
CALL {
  UNWIND $values AS v
  MERGE (x:EmailDomain {name: v.value})
    ON CREATE SET x.firstSeen = toInteger(v.firstSeen), x.lastSeen = toInteger(v.lastSeen)
  SET x.firstSeen = CASE WHEN v.firstSeen < x.firstSeen THEN toInteger(v.firstSeen) ELSE x.firstSeen END,
      x.lastSeen = CASE WHEN v.lastSeen > x.lastSeen THEN toInteger(v.lastSeen) ELSE x.lastSeen END
}
UNWIND $rows AS r
MATCH (a:Account {id: r.accountId})
MATCH (x:EmailDomain {name: r.value})
MERGE (a)-[l:HAS_EMAIL_DOMAIN]->(x)
  ON CREATE SET l.count = 0, l.firstSeen = toInteger(r.firstSeen), l.lastSeen = toInteger(r.lastSeen)
SET l.count = l.count + toInteger(r.count),
    l.firstSeen = CASE WHEN r.firstSeen < l.firstSeen THEN toInteger(r.firstSeen) ELSE l.firstSeen END,
    l.lastSeen = CASE WHEN r.lastSeen > l.lastSeen THEN toInteger(r.lastSeen) ELSE l.lastSeen END
