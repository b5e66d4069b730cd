// Takes the lease when it is free or expired (database clock). The first SET takes
// the node's write lock, so the holder read after it is the latest committed one and
// two processes can never both see it free. The holder itself may take it again: the
// driver retries a commit whose answer was lost, and that commit may have gone through.
// Returns who held it before.
MERGE (l:Lease {name: $name})
SET l.lockedAt = timestamp()
WITH l, l.holder AS previous, l.expiresAt AS previousExpiresAt, timestamp() AS now
WITH l, previous, previousExpiresAt, now,
     (previous IS NULL OR previous = $holder OR previousExpiresAt IS NULL
      OR previousExpiresAt < now) AS free
SET l.holder = CASE WHEN free THEN $holder ELSE l.holder END,
    l.expiresAt = CASE WHEN free THEN now + $ttlMs ELSE l.expiresAt END,
    l.acquiredAt = CASE WHEN free THEN now ELSE l.acquiredAt END
RETURN free AS acquired, previous, previousExpiresAt, l.holder AS holder, l.expiresAt AS expiresAt
