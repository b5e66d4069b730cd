// Frees the lock if it is still the holder's (an expired lock another import took stays).
// The write lock first, then the holder read (see take-import-lock).
MATCH (l:ImportLock {file: $file})
SET l.lockedAt = timestamp()
WITH l
WHERE l.holder = $holder
DELETE l
