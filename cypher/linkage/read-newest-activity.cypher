// The newest activity in the graph (the largest Account.lastSeen), which link ages are
// measured back from (src/linkage/link-age.ts). One pass over the accounts; only runs that
// age some kind ask.
// Numbers only, NaN left out (NaN = NaN is false): Cypher orders NaN above every number, so
// one hand-written NaN would be the max, and every link would compare false against it.
MATCH (a:Account)
WITH toFloatOrNull(a.lastSeen) AS lastSeen
WHERE lastSeen = lastSeen
RETURN max(lastSeen) AS asOf
