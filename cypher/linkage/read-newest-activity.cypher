// The newest activity in the graph (the largest Account.lastSeen), which link ages are
// measured back from (src/linkage/link-age.ts). One pass over the accounts; only runs that
// age some kind ask.
MATCH (a:Account)
RETURN max(a.lastSeen) AS asOf
