// Whether part $part of the window ending at line $end is already committed. Read first
// in the part's own transaction: when the driver retries a commit whose answer was lost
// but which went through, the retry finds its own checkpoint and writes nothing again.
OPTIONAL MATCH (c:ImportCheckpoint {key: $key})
RETURN coalesce(c.line, 0) >= $end
       OR (c.windowEnd = $end AND coalesce(c.windowParts, 0) > $part) AS done
