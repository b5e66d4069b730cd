// Written in the same transaction as each part of a window but its last: the window's
// last line, how many parts are committed (rows per part, so a resumed import cuts the
// window the same way), the events those parts wrote or found duplicate, and the clock
// its lines were judged by (a resume judges them by it too, so they are cut the same way).
MERGE (c:ImportCheckpoint {key: $key})
SET c.file = $file, c.size = $size, c.head = $head, c.windowEnd = $end, c.windowParts = $parts,
    c.windowPartRows = $partRows, c.windowWritten = $written, c.windowDuplicates = $duplicates,
    c.windowClock = $clock, c.updatedAt = $now
