// Written in the same transaction as the last part of the window it covers: a resumed
// import never counts a line twice and never skips one. Clears the open-window state.
MERGE (c:ImportCheckpoint {key: $key})
SET c.file = $file, c.line = $line, c.events = $events, c.duplicates = $duplicates,
    c.rejected = $rejected, c.updatedAt = $now,
    c.windowEnd = null, c.windowParts = null, c.windowPartRows = null,
    c.windowWritten = null, c.windowDuplicates = null
