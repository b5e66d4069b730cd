// How many runs are marked running without a live lease: the holder of an expired lease,
// or runs that do not hold the lease at all. Read first, so a check that finds nothing
// writes nothing.
MATCH (r:LinkageRun {status: 'running'})
OPTIONAL MATCH (l:Lease {name: $name})
WITH r, l
WHERE l IS NULL OR l.holder IS NULL OR l.holder <> r.id OR l.expiresAt < timestamp()
RETURN count(r) AS dead
