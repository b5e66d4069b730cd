// A file that is an earlier import's bytes plus appended lines (or the file a checkpoint
// from before content keys was written for) continues that import: its checkpoint starts
// as a copy of the earlier one, window included. The earlier one is marked: if it was
// unfinished, this one writes its remaining lines, so it must not be resumed on its own.
MATCH (b:ImportCheckpoint {key: $base})
MERGE (c:ImportCheckpoint {key: $key})
SET c.file = $file, c.size = $size, c.head = $head, c.continues = $base, c.complete = false,
    c.line = b.line, c.events = b.events, c.duplicates = b.duplicates, c.rejected = b.rejected,
    c.windowEnd = b.windowEnd, c.windowParts = b.windowParts,
    c.windowPartRows = b.windowPartRows, c.windowKeyed = b.windowKeyed,
    c.windowAccount = b.windowAccount, c.windowWritten = b.windowWritten,
    c.windowDuplicates = b.windowDuplicates, c.windowClock = b.windowClock, c.updatedAt = $now,
    b.continuedBy = $key
RETURN c.line AS line, c.events AS events, c.duplicates AS duplicates, c.rejected AS rejected,
       c.windowEnd AS windowEnd, c.windowParts AS windowParts, c.windowPartRows AS windowPartRows,
       c.windowKeyed AS windowKeyed, c.windowAccount AS windowAccount,
       c.windowWritten AS windowWritten, c.windowDuplicates AS windowDuplicates,
       c.windowClock AS windowClock
