// (:Account)-[:USED_MODEL {count, firstUse, lastUse, hourKeys, hourCounts}]->(:Model {name}).
// A model's first appearance (its "release" as seen here) is min(firstUse) over its
// USED_MODEL relationships, computed when read: a running minimum on the hot Model
// node would make every batch wait for its lock. The hour series is merged as in
// merge-accounts.cypher: appended when the batch's hours follow the stored ones,
// re-grouped by hour otherwise; linear either way.
UNWIND $rows AS r
MATCH (a:Account {id: r.accountId})
MERGE (m:Model {name: r.model})
MERGE (a)-[u:USED_MODEL]->(m)
  ON CREATE SET u.count = 0, u.firstUse = toInteger(r.firstUse), u.lastUse = toInteger(r.lastUse),
                u.hourKeys = [], u.hourCounts = []
WITH u, r, u.hourKeys AS hk, u.hourCounts AS hc,
     [k IN r.hourKeys | toInteger(k)] AS rk, [c IN r.hourCounts | toInteger(c)] AS rc
// Re-grouping (only when the hours overlap) in a subquery that always yields one
// row: collect() over no rows is one row of empty lists.
WITH *, size(hk) = 0 OR size(rk) = 0 OR rk[0] > hk[size(hk) - 1] AS appendOnly
CALL {
  WITH hk, hc, rk, rc, appendOnly
  UNWIND CASE WHEN appendOnly THEN [] ELSE range(0, size(hk) + size(rk) - 1) END AS i
  WITH CASE WHEN i < size(hk) THEN hk[i] ELSE rk[i - size(hk)] END AS k,
       CASE WHEN i < size(hk) THEN hc[i] ELSE rc[i - size(hk)] END AS c
  WITH k, sum(c) AS c ORDER BY k
  RETURN collect(k) AS mergedKeys, collect(c) AS mergedCounts
}
WITH *, CASE WHEN appendOnly THEN hk + rk ELSE mergedKeys END AS keys,
        CASE WHEN appendOnly THEN hc + rc ELSE mergedCounts END AS counts
SET u.count = u.count + toInteger(r.count),
    u.firstUse = CASE WHEN r.firstUse < u.firstUse THEN toInteger(r.firstUse) ELSE u.firstUse END,
    u.lastUse = CASE WHEN r.lastUse > u.lastUse THEN toInteger(r.lastUse) ELSE u.lastUse END,
    u.hourKeys = keys,
    u.hourCounts = counts
