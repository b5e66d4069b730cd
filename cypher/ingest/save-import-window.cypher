// Written in the same transaction as each part of a window but its last: the window's
// last line, how many parts are committed (numbered on across resumes, for
// read-import-part-committed), how far they got (keyed events in line order, then the
// last account, in id order, whose folded rows are in: a resume cuts the rest with the
// IMPORT_PART_ROWS it runs with), the rows per part of this run's cut, the events those
// parts wrote or found duplicate, and the clock its lines were judged by (a resume judges
// them by it too, so the window holds the same events).
MERGE (c:ImportCheckpoint {key: $key})
SET c.file = $file, c.size = $size, c.head = $head, c.windowEnd = $end, c.windowParts = $parts,
    c.windowPartRows = $partRows, c.windowKeyed = $keyed, c.windowAccount = $account,
    c.windowWritten = $written, c.windowDuplicates = $duplicates, c.windowClock = $clock,
    c.updatedAt = $now
