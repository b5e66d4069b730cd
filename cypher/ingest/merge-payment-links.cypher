// (:Account)-[:PAID_WITH {count, firstSeen, lastSeen}]->(:PaymentMethod): one aggregated relationship per pair.
// One row per (account, value), rows sorted by value. Each PaymentMethod is merged and its
// first/last seen folded in the row that meets it, a write that takes its exclusive
// lock: values are locked in value order, and concurrent batches lock them in one
// global order however the rows are split.
UNWIND $rows AS r
MATCH (a:Account {id: r.accountId})
MERGE (x:PaymentMethod {fingerprint: r.value})
  ON CREATE SET x.firstSeen = toInteger(r.firstSeen), x.lastSeen = toInteger(r.lastSeen)
SET x.firstSeen = CASE WHEN r.firstSeen < x.firstSeen THEN toInteger(r.firstSeen) ELSE x.firstSeen END,
    x.lastSeen = CASE WHEN r.lastSeen > x.lastSeen THEN toInteger(r.lastSeen) ELSE x.lastSeen END
MERGE (a)-[l:PAID_WITH]->(x)
  ON CREATE SET l.count = 0, l.firstSeen = toInteger(r.firstSeen), l.lastSeen = toInteger(r.lastSeen)
SET l.count = l.count + toInteger(r.count),
    l.firstSeen = CASE WHEN r.firstSeen < l.firstSeen THEN toInteger(r.firstSeen) ELSE l.firstSeen END,
    l.lastSeen = CASE WHEN r.lastSeen > l.lastSeen THEN toInteger(r.lastSeen) ELSE l.lastSeen END
