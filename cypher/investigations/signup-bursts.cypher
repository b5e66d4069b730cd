// @description Sign-up bursts: time buckets of bucketMinutes from `from` (the last cut at `to`) with at least minSignups new accounts, busiest first, with a sample of the accounts.
// @param from datetime
// @param to datetime
// @param bucketMinutes int 1..10080 = 60
// @param minSignups int 1.. = 5
// @param limit int 1..10000 = 100
MATCH (a:Account)
WHERE a.signupAt >= $from AND a.signupAt < $to
// Buckets start at $from (not at the epoch's hours), so none reaches before it; the last
// one ends at $to at the latest.
WITH a, $bucketMinutes * 60000 AS bucketMs
WITH bucketMs, (a.signupAt - $from) / bucketMs AS bucket, a
ORDER BY a.id
WITH bucketMs, bucket, count(a) AS signups, collect(a.id) AS ids
WHERE signups >= $minSignups
WITH $from + bucket * bucketMs AS bucketStart, bucketMs, signups, ids
RETURN bucketStart, CASE WHEN bucketStart + bucketMs < $to THEN bucketStart + bucketMs ELSE $to END AS bucketEnd,
  signups, ids[..50] AS sample
ORDER BY signups DESC, bucketStart
LIMIT $limit
