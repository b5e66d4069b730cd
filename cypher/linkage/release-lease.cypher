// Frees the lease at the end of a run (only if this holder still has it).
MATCH (l:Lease {name: $name, holder: $holder})
SET l.holder = null, l.expiresAt = null, l.releasedAt = timestamp()
