// @description Sign-up bursts: time buckets of bucketMinutes from `from` (the last cut at `to`) with at least minSignups new accounts, busiest first, with a sample of the accounts.
// @param from datetime
// @param to datetime
// @check from < to
// @param bucketMinutes int 1..10080 = 60
// @param minSignups int 1.. = 5
// @param limit int 1..10000 = 100
MATCH (a:Account)
WHERE a.signupAt >= $from AND a.signupAt < $to
// Buckets start at $from (not at the epoch's hours), so none reaches before it; the last
// one ends at $to at the latest. Counted, not collected: the sample is read afterwards for
// the buckets kept, 50 ids each (collecting every id of a wide window ran out of memory).
WITH $bucketMinutes * 60000 AS bucketMs, a.signupAt AS at
WITH bucketMs, (at - $from) / bucketMs AS bucket, count(*) AS signups
WHERE signups >= $minSignups
WITH $from + bucket * bucketMs AS bucketStart, bucketMs, signups
WITH bucketStart, CASE WHEN bucketStart + bucketMs < $to THEN bucketStart + bucketMs ELSE $to END AS bucketEnd,
  signups
ORDER BY signups DESC, bucketStart
LIMIT $limit
RETURN bucketStart, bucketEnd, signups, COLLECT {
  MATCH (s:Account)
  WHERE s.signupAt >= bucketStart AND s.signupAt < bucketEnd
  RETURN s.id ORDER BY s.id LIMIT 50
} AS sample
ORDER BY signups DESC, bucketStart
