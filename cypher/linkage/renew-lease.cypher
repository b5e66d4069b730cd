// Extends the lease while its holder is alive; no row back: the lease was lost. The
// first SET takes the lease's write lock, so the holder is read after whatever freed or
// took the lease committed (a check for dead runs, another run's takeover).
MATCH (l:Lease {name: $name})
SET l.lockedAt = timestamp()
WITH l
WHERE l.holder = $holder
SET l.expiresAt = timestamp() + $ttlMs
RETURN l.expiresAt AS expiresAt
