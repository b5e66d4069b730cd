// Extends the holder's lock; no row when it is no longer the holder's (expired and taken).
// The write lock first, then the holder read (see take-import-lock).
MATCH (l:ImportLock {file: $file})
SET l.lockedAt = timestamp()
WITH l
WHERE l.holder = $holder
SET l.expiresAt = timestamp() + $ttlMs
RETURN l.expiresAt AS expiresAt
