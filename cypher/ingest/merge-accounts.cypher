// Creates missing accounts and folds per-batch aggregates into each: first/last seen,
// sign-up time, request count, and the per-hour activity series (parallel arrays).
// Rows come sorted by id and every row writes its account, so the accounts are
// locked in id order before any link statement of this transaction touches them.
UNWIND $rows AS r
MERGE (a:Account {id: r.id})
WITH a, r, coalesce(a.hourKeys, []) AS hk, coalesce(a.hourCounts, []) AS hc,
     [k IN r.hourKeys | toInteger(k)] AS rk
WITH a, r, hk, hc, rk, [i IN range(0, size(rk) - 1) WHERE NOT rk[i] IN hk] AS fresh
SET a.firstSeen = CASE WHEN a.firstSeen IS NULL OR r.firstSeen < a.firstSeen THEN toInteger(r.firstSeen) ELSE a.firstSeen END,
    a.lastSeen = CASE WHEN a.lastSeen IS NULL OR r.lastSeen > a.lastSeen THEN toInteger(r.lastSeen) ELSE a.lastSeen END,
    a.signupAt = CASE WHEN r.signupAt IS NULL THEN a.signupAt
                      WHEN a.signupAt IS NULL OR r.signupAt < a.signupAt THEN toInteger(r.signupAt)
                      ELSE a.signupAt END,
    a.requests = coalesce(a.requests, 0) + toInteger(r.requests),
    a.emailDomain = coalesce(r.emailDomain, a.emailDomain),
    a.org = coalesce(r.org, a.org),
    a.hourCounts = [j IN range(0, size(hk) - 1) |
                     hc[j] + reduce(s = 0, i IN range(0, size(rk) - 1) |
                       s + CASE WHEN rk[i] = hk[j] THEN toInteger(r.hourCounts[i]) ELSE 0 END)]
                   + [i IN fresh | toInteger(r.hourCounts[i])],
    a.hourKeys = hk + [i IN fresh | rk[i]]
