// Extends the holder's lock; no row when it is no longer the holder's (expired and taken).
MATCH (l:ImportLock {file: $file, holder: $holder})
SET l.expiresAt = timestamp() + $ttlMs
RETURN l.expiresAt AS expiresAt
