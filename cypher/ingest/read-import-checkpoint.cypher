// Where a bulk import of one file got to (last line of the last whole window), if it
// ran before, and how far into the next window it got (parts committed, their counts).
MATCH (c:ImportCheckpoint {key: $key})
RETURN c.line AS line, c.events AS events, c.duplicates AS duplicates, c.rejected AS rejected,
       c.windowEnd AS windowEnd, c.windowParts AS windowParts, c.windowPartRows AS windowPartRows,
       c.windowWritten AS windowWritten, c.windowDuplicates AS windowDuplicates
