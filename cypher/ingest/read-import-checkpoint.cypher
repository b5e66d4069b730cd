// Where a bulk import of one file got to (last committed line), if it ran before.
MATCH (c:ImportCheckpoint {key: $key})
RETURN c.line AS line, c.events AS events, c.duplicates AS duplicates, c.rejected AS rejected
