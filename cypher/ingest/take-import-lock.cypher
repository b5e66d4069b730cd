// One import of a file path at a time: takes (:ImportLock {file}) for $holder when it is
// free, expired (on the database clock: its holder stopped renewing), already $holder's
// (the driver retrying a commit that went through) or held by $takeOver (a holder found
// dead on this host). The node's write lock is taken first (SET lockedAt), so what is
// read next is committed: two takers at once are serialised, and the second sees the
// first's holder. Returns whether it was taken, and the lock as it now stands.
MERGE (l:ImportLock {file: $file})
SET l.lockedAt = timestamp()
WITH l,
  l.holder IS NULL OR l.holder IN [$holder, $takeOver] OR coalesce(l.expiresAt < timestamp(), true)
    AS free
SET l.since = CASE WHEN free AND coalesce(l.holder <> $holder, true) THEN timestamp() ELSE l.since END,
  l.host = CASE WHEN free THEN $host ELSE l.host END,
  l.pid = CASE WHEN free THEN $pid ELSE l.pid END,
  l.holder = CASE WHEN free THEN $holder ELSE l.holder END,
  l.expiresAt = CASE WHEN free THEN timestamp() + $ttlMs ELSE l.expiresAt END
RETURN free AS taken, l.holder AS holder, l.host AS host, l.pid AS pid, l.since AS since,
  l.expiresAt AS expiresAt
