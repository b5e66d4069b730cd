// Written in the same transaction as the batch it covers: a resumed import
// never counts a line twice and never skips one.
MERGE (c:ImportCheckpoint {key: $key})
SET c.file = $file, c.line = $line, c.events = $events, c.duplicates = $duplicates,
    c.rejected = $rejected, c.updatedAt = $now
