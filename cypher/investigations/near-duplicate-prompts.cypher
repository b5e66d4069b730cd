// @description Accounts sending prompts whose 64-bit SimHash is within maxDistance bits (Hamming) of the given fingerprint (16 hex digits, either case). Up to 3 bits, one of four 16-bit bands must match exactly (pigeonhole), which prunes most fingerprints before the distance is computed; above 3 bits every fingerprint is compared (a scan of all of them, ended by the investigation's timeout on a large graph). `aged`: whether the current run left the account's link to that fingerprint out as aged (null when it was seen again since that run; prompt links age only when LINKAGE_LINK_MAX_AGE_DAYS names prompt).
// @param fingerprint fingerprint
// @param maxDistance int 0..64 = 3
// @param limit int 1..10000 = 100
// @aged prompt lastSeen
WITH $fingerprint AS f,
  {`0`: 0, `1`: 1, `2`: 2, `3`: 3, `4`: 4, `5`: 5, `6`: 6, `7`: 7, `8`: 8, `9`: 9,
   a: 10, b: 11, c: 12, d: 13, e: 14, f: 15} AS hex
MATCH (p:PromptFingerprint)
WHERE $maxDistance > 3
   OR substring(p.hash, 0, 4) = substring(f, 0, 4)
   OR substring(p.hash, 4, 4) = substring(f, 4, 4)
   OR substring(p.hash, 8, 4) = substring(f, 8, 4)
   OR substring(p.hash, 12, 4) = substring(f, 12, 4)
WITH p, reduce(d = 0, i IN range(0, 15) |
  d + reduce(n = 0, k IN [1, 2, 4, 8] |
    n + CASE WHEN (hex[substring(p.hash, i, 1)] / k) % 2 <> (hex[substring(f, i, 1)] / k) % 2
             THEN 1 ELSE 0 END)) AS distance
WHERE distance <= $maxDistance
MATCH (a:Account)-[r:SENT]->(p)
RETURN a.id AS accountId, p.hash AS fingerprint, distance, r.count AS requests,
  r.firstSeen AS firstSeen, r.lastSeen AS lastSeen
ORDER BY distance, requests DESC, accountId, fingerprint
LIMIT $limit
