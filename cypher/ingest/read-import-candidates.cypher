// Earlier imports a file may be, extend or replace: the same first line (any earlier
// file it begins with has it, wherever that was), the same path, or the key a checkpoint
// from before content keys would have. The importer checks each against the file's bytes.
MATCH (c:ImportCheckpoint)
WHERE c.head = $head OR c.file = $file OR c.key = $legacyKey
// The import that continued it, if any: whether it finished says whether this one's lines are in.
OPTIONAL MATCH (n:ImportCheckpoint {key: c.continuedBy})
RETURN c.key AS key, c.file AS file, c.size AS size, c.head AS head,
       coalesce(c.complete, false) AS complete, n.complete AS continuedByComplete,
       c.endsWithNewline AS endsWithNewline, c.continuedBy AS continuedBy,
       c.line AS line, c.events AS events, c.duplicates AS duplicates, c.rejected AS rejected,
       c.windowEnd AS windowEnd, c.windowParts AS windowParts, c.windowPartRows AS windowPartRows,
       c.windowKeyed AS windowKeyed, c.windowAccount AS windowAccount,
       c.windowWritten AS windowWritten, c.windowDuplicates AS windowDuplicates,
       c.windowClock AS windowClock
ORDER BY c.updatedAt DESC
