// Frees the lease at the end of a run (only if this holder still has it). The lock
// first, as in renew-lease: a holder read before it could be one another run has
// since replaced, and freeing that run's lease would let a third one start.
MATCH (l:Lease {name: $name})
SET l.lockedAt = timestamp()
WITH l
WHERE l.holder = $holder
SET l.holder = null, l.expiresAt = null, l.releasedAt = timestamp()
