// In the transaction of every part an import commits: whether it still holds its path's
// lock (an import paused past the lock's expiry must not write after another took it).
// The write lock first, then the holder read (see take-import-lock). No row: no lock.
MATCH (l:ImportLock {file: $file})
SET l.lockedAt = timestamp()
RETURN l.holder = $holder AS held
