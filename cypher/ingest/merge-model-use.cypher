// (:Account)-[:USED_MODEL {count, firstUse, lastUse, hourKeys, hourCounts}]->(:Model {name}).
// A model's first appearance (its "release" as seen here) is min(firstUse) over its
// USED_MODEL relationships, computed when read: a running minimum on the hot Model
// node would make every batch wait for its lock.
UNWIND $rows AS r
MATCH (a:Account {id: r.accountId})
MERGE (m:Model {name: r.model})
MERGE (a)-[u:USED_MODEL]->(m)
  ON CREATE SET u.count = 0, u.firstUse = toInteger(r.firstUse), u.lastUse = toInteger(r.lastUse),
                u.hourKeys = [], u.hourCounts = []
WITH u, r, u.hourKeys AS hk, u.hourCounts AS hc, [k IN r.hourKeys | toInteger(k)] AS rk
WITH u, r, hk, hc, rk, [i IN range(0, size(rk) - 1) WHERE NOT rk[i] IN hk] AS fresh
SET u.count = u.count + toInteger(r.count),
    u.firstUse = CASE WHEN r.firstUse < u.firstUse THEN toInteger(r.firstUse) ELSE u.firstUse END,
    u.lastUse = CASE WHEN r.lastUse > u.lastUse THEN toInteger(r.lastUse) ELSE u.lastUse END,
    u.hourCounts = [j IN range(0, size(hk) - 1) |
                     hc[j] + reduce(s = 0, i IN range(0, size(rk) - 1) |
                       s + CASE WHEN rk[i] = hk[j] THEN toInteger(r.hourCounts[i]) ELSE 0 END)]
                   + [i IN fresh | toInteger(r.hourCounts[i])],
    u.hourKeys = hk + [i IN fresh | rk[i]]
