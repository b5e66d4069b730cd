// (:Account)-[:PAID_WITH {count, firstSeen, lastSeen}]->(:PaymentMethod): one aggregated relationship per pair.
// One row per (account, value), rows sorted by value. Each PaymentMethod is merged and its
// first/last seen folded in the row that meets it, a write that takes its exclusive
// lock: values are locked in value order, and concurrent batches lock them in one
// global order however the rows are split.
// Rows come as lists (cheaper to send than maps; writer.ts encodes them): the WITH names the fields.
UNWIND $rows AS row
WITH row[0] AS accountId, row[1] AS value, row[2] AS events, row[3] AS firstSeen, row[4] AS lastSeen
MATCH (a:Account {id: accountId})
MERGE (x:PaymentMethod {fingerprint: value})
  ON CREATE SET x.firstSeen = toInteger(firstSeen), x.lastSeen = toInteger(lastSeen)
SET x.firstSeen = CASE WHEN firstSeen < x.firstSeen THEN toInteger(firstSeen) ELSE x.firstSeen END,
    x.lastSeen = CASE WHEN lastSeen > x.lastSeen THEN toInteger(lastSeen) ELSE x.lastSeen END
MERGE (a)-[l:PAID_WITH]->(x)
  ON CREATE SET l.count = 0, l.firstSeen = toInteger(firstSeen), l.lastSeen = toInteger(lastSeen)
SET l.count = l.count + toInteger(events),
    l.firstSeen = CASE WHEN firstSeen < l.firstSeen THEN toInteger(firstSeen) ELSE l.firstSeen END,
    l.lastSeen = CASE WHEN lastSeen > l.lastSeen THEN toInteger(lastSeen) ELSE l.lastSeen END
