// Takes the lease when it is free or expired (database clock), or when its holder's run
// has already finished (failed or succeeded: its release was never written, e.g. Neo4j
// went away after the failure was recorded, or a process exited right after a shutdown
// failed its run). The first SET takes the node's write lock, so the holder and its run's
// status read after it are the latest committed ones (every statement that ends a run
// takes that lock first) and two processes can never both see it free. A holder with no
// run record is not taken: the lease was taken without one. The holder itself may take
// it again: the driver retries a commit whose answer was lost, and that commit may have
// gone through. Returns who held it before. Expiry is judged by the transaction's clock,
// as fail-dead-runs, before this in the same transaction, judged it; a new lease runs from
// this statement's clock, read once the lock is held (the transaction's is from before a
// wait on it, which would shorten the lease by the wait).
MERGE (l:Lease {name: $name})
SET l.lockedAt = timestamp()
WITH l, l.holder AS previous, l.expiresAt AS previousExpiresAt,
     datetime.transaction().epochMillis AS judgedAt, timestamp() AS now
WITH l, previous, previousExpiresAt, judgedAt, now,
     EXISTS {
       MATCH (r:LinkageRun {id: previous})
       WHERE r.status <> 'running'
     } AS previousFinished
WITH l, previous, previousExpiresAt, judgedAt, now, previousFinished,
     (previous IS NULL OR previous = $holder OR previousExpiresAt IS NULL
      OR previousExpiresAt < judgedAt OR previousFinished) AS free
SET l.holder = CASE WHEN free THEN $holder ELSE l.holder END,
    l.expiresAt = CASE WHEN free THEN now + $ttlMs ELSE l.expiresAt END,
    l.acquiredAt = CASE WHEN free THEN now ELSE l.acquiredAt END
RETURN free AS acquired, previous, previousExpiresAt, previousFinished,
       l.holder AS holder, l.expiresAt AS expiresAt
