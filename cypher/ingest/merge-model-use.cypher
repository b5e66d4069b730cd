// (:Account)-[:USED_MODEL {count, firstUse, lastUse, hourKeys, hourCounts}]->(:Model {name}).
// A model's first appearance (its "release" as seen here) is the k-th earliest firstUse
// over its USED_MODEL relationships (k = 3, SIGNALS.md), computed when read: a running minimum on the hot Model
// node would make every batch wait for its lock. The hour series is merged as in
// merge-accounts.cypher: appended when the batch's hours follow the stored ones,
// re-grouped by hour otherwise; linear either way.
// Rows come as lists (cheaper to send than maps; writer.ts encodes them): the WITH names the fields.
UNWIND $rows AS row
WITH row[0] AS accountId, row[1] AS model, row[2] AS events, row[3] AS firstUse, row[4] AS lastUse, row[5] AS hourKeys, row[6] AS hourCounts
MATCH (a:Account {id: accountId})
MERGE (m:Model {name: model})
MERGE (a)-[u:USED_MODEL]->(m)
  ON CREATE SET u.count = 0, u.firstUse = toInteger(firstUse), u.lastUse = toInteger(lastUse),
                u.hourKeys = [], u.hourCounts = []
WITH u, events, firstUse, lastUse, u.hourKeys AS hk, u.hourCounts AS hc,
     [k IN hourKeys | toInteger(k)] AS rk, [c IN hourCounts | toInteger(c)] AS rc
// Re-grouping (only when the hours overlap) in a subquery that always yields one
// row: collect() over no rows is one row of empty lists.
WITH *, size(hk) = 0 OR size(rk) = 0 OR rk[0] > hk[size(hk) - 1] AS appendOnly
CALL (hk, hc, rk, rc, appendOnly) {
  UNWIND CASE WHEN appendOnly THEN [] ELSE range(0, size(hk) + size(rk) - 1) END AS i
  WITH CASE WHEN i < size(hk) THEN hk[i] ELSE rk[i - size(hk)] END AS k,
       CASE WHEN i < size(hk) THEN hc[i] ELSE rc[i - size(hk)] END AS c
  WITH k, sum(c) AS c ORDER BY k
  RETURN collect(k) AS mergedKeys, collect(c) AS mergedCounts
}
WITH *, CASE WHEN appendOnly THEN hk + rk ELSE mergedKeys END AS keys,
        CASE WHEN appendOnly THEN hc + rc ELSE mergedCounts END AS counts
SET u.count = u.count + toInteger(events),
    u.firstUse = CASE WHEN firstUse < u.firstUse THEN toInteger(firstUse) ELSE u.firstUse END,
    u.lastUse = CASE WHEN lastUse > u.lastUse THEN toInteger(lastUse) ELSE u.lastUse END,
    u.hourKeys = keys,
    u.hourCounts = counts
