// Written in the same transaction as the last part of the window it covers: a resumed
// import never counts a line twice and never skips one. Clears the open-window state.
// The key is the file's content hash; size and first-line hash let a longer file find it.
MERGE (c:ImportCheckpoint {key: $key})
SET c.file = $file, c.size = $size, c.head = $head, c.line = $line, c.events = $events,
    c.duplicates = $duplicates, c.rejected = $rejected, c.updatedAt = $now,
    c.windowEnd = null, c.windowParts = null, c.windowPartRows = null, c.windowKeyed = null,
    c.windowAccount = null, c.windowWritten = null, c.windowDuplicates = null,
    c.windowClock = null
