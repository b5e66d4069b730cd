// `--recount` of the bytes of an unfinished import a longer file took over (whose own
// import is not finished): their import starts again from line 1, as a new import. The
// old state goes, or a resumed part would find its window covered and skip it
// (read-import-part-committed). A longer file that continued it keeps its own checkpoint.
// Only while that longer import is still unfinished, read under its lock (set below, so
// its final commit cannot slip in between): finished while this file was hashed, it has
// every line of this one in, and a restart would count them all again (review, 12-05).
// No row back: not restarted.
MATCH (c:ImportCheckpoint {key: $key})
OPTIONAL MATCH (longer:ImportCheckpoint {key: c.continuedBy})
SET longer.recountCheckedAt = $now
WITH c, longer
WHERE coalesce(longer.complete, false) = false
SET c.file = $file, c.size = $size, c.head = $head, c.line = 0, c.events = 0,
    c.duplicates = 0, c.rejected = 0, c.complete = false, c.endsWithNewline = null,
    c.continues = null, c.continuedBy = null, c.windowEnd = null, c.windowParts = null,
    c.windowPartRows = null, c.windowKeyed = null, c.windowAccount = null,
    c.windowWritten = null, c.windowDuplicates = null, c.windowClock = null, c.updatedAt = $now
RETURN c.key AS key
