// Extends the lease while its holder is alive; no row back: the lease was lost.
MATCH (l:Lease {name: $name, holder: $holder})
SET l.expiresAt = timestamp() + $ttlMs
RETURN l.expiresAt AS expiresAt
