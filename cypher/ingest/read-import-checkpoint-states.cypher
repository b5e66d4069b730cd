// What decides where an import starts, for the checkpoints it matched (its own key, the
// import it continues), read again once it holds their locks: an import that ran while
// this one hashed the file may have moved them on (one row per key; found false if none).
UNWIND $keys AS k
OPTIONAL MATCH (c:ImportCheckpoint {key: k})
RETURN k AS key, c IS NOT NULL AS found, coalesce(c.complete, false) AS complete,
       c.continuedBy AS continuedBy, c.continues AS continues,
       c.line AS line, c.events AS events, c.duplicates AS duplicates, c.rejected AS rejected,
       c.windowEnd AS windowEnd, c.windowParts AS windowParts, c.windowPartRows AS windowPartRows,
       c.windowKeyed AS windowKeyed, c.windowAccount AS windowAccount,
       c.windowWritten AS windowWritten, c.windowDuplicates AS windowDuplicates,
       c.windowClock AS windowClock
