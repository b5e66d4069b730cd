// Frees the lock if it is still the holder's (an expired lock another import took stays).
MATCH (l:ImportLock {file: $file, holder: $holder})
DELETE l
