// Creates missing accounts and folds per-batch aggregates into each: first/last seen,
// sign-up time, request count, and the per-hour activity series (parallel arrays kept
// sorted by hour). Rows come sorted by id and every row writes its account, so the
// accounts are locked in id order before any link statement of this transaction
// touches them. Series: when the batch's hours all follow the stored ones (a file or
// stream read in time order) they are appended; otherwise both are re-grouped by hour.
// Either way the cost is linear in the series, never a nested scan.
// Rows come as lists (cheaper to send than maps; writer.ts encodes them): the WITH names the fields.
UNWIND $rows AS row
WITH row[0] AS id, row[1] AS firstSeen, row[2] AS lastSeen, row[3] AS signupAt, row[4] AS requests, row[5] AS hourKeys, row[6] AS hourCounts, row[7] AS emailDomain, row[8] AS org, row[9] AS emailDomainAt, row[10] AS orgAt
MERGE (a:Account {id: id})
// Locked before it is read: MERGE takes no lock on an account that exists, and a read
// through WITH (below) takes none either, so a writer that committed in between (two
// replicas, an import beside REST) would lose its hours. The SET takes the lock.
SET a.requests = coalesce(a.requests, 0)
// The e-mail domain (org) of the newest event that named one, and of two at the same
// time the greater string: whatever order the writes come in (aggregate.ts, `replaces`).
WITH a, firstSeen, lastSeen, signupAt, requests, emailDomain, org, emailDomainAt, orgAt,
     emailDomain IS NOT NULL AND (a.emailDomainAt IS NULL OR emailDomainAt > a.emailDomainAt
       OR (emailDomainAt = a.emailDomainAt AND emailDomain > a.emailDomain)) AS newerEmail,
     org IS NOT NULL AND (a.orgAt IS NULL OR orgAt > a.orgAt
       OR (orgAt = a.orgAt AND org > a.org)) AS newerOrg,
     coalesce(a.hourKeys, []) AS hk, coalesce(a.hourCounts, []) AS hc,
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
SET a.firstSeen = CASE WHEN a.firstSeen IS NULL OR firstSeen < a.firstSeen THEN toInteger(firstSeen) ELSE a.firstSeen END,
    a.lastSeen = CASE WHEN a.lastSeen IS NULL OR lastSeen > a.lastSeen THEN toInteger(lastSeen) ELSE a.lastSeen END,
    a.signupAt = CASE WHEN signupAt IS NULL THEN a.signupAt
                      WHEN a.signupAt IS NULL OR signupAt < a.signupAt THEN toInteger(signupAt)
                      ELSE a.signupAt END,
    a.requests = coalesce(a.requests, 0) + toInteger(requests),
    a.emailDomain = CASE WHEN newerEmail THEN emailDomain ELSE a.emailDomain END,
    a.emailDomainAt = CASE WHEN newerEmail THEN toInteger(emailDomainAt) ELSE a.emailDomainAt END,
    a.org = CASE WHEN newerOrg THEN org ELSE a.org END,
    a.orgAt = CASE WHEN newerOrg THEN toInteger(orgAt) ELSE a.orgAt END,
    // No requests, no series (null removes the property): the bulk importer cannot
    // write an empty array, and both paths must store the same thing.
    a.hourKeys = CASE WHEN size(keys) = 0 THEN null ELSE keys END,
    a.hourCounts = CASE WHEN size(keys) = 0 THEN null ELSE counts END
