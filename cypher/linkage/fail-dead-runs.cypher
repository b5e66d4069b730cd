// Fails the runs a dead process left running: the holder of an expired lease ("lease
// expired"; the lease is freed, so a holder that was only stalled finds it lost at its
// next renewal) and runs that do not hold the lease ("abandoned"). The first SET takes
// the lease's write lock, as acquire-lease does, so what is read after it is committed:
// a run being started holds that lock until its record exists. finishedAt is the
// database's clock, as the swap's (a replica's clock may be minutes off). $asking: the
// run taking the lease (null for the periodic check), whose own lease is not expired to
// it: the driver retrying a commit that went through, after the TTL, would fail the run
// it is starting and take the lease for it again. Expiry is judged by the transaction's
// clock, as acquire-lease judges it after this in the same transaction: each statement's
// own clock, read before a wait on the lock, saw the lease live here and expired there
// (review, 12-07).
MERGE (l:Lease {name: $name})
SET l.lockedAt = timestamp()
WITH l, l.holder AS holder,
  (l.holder IS NOT NULL AND l.expiresAt < datetime.transaction().epochMillis
   AND l.holder <> coalesce($asking, '')) AS expired
SET l.holder = CASE WHEN expired THEN null ELSE l.holder END,
    l.expiresAt = CASE WHEN expired THEN null ELSE l.expiresAt END
WITH holder, expired
MATCH (r:LinkageRun {status: 'running'})
WHERE expired OR r.id <> coalesce(holder, '')
WITH r, holder, CASE WHEN r.id = holder THEN $expiredError ELSE $abandonedError END AS error
SET r.status = 'failed', r.finishedAt = toFloat(timestamp()), r.error = error, r.errorSummary = error
RETURN r.id AS id, r.id = holder AS expired
