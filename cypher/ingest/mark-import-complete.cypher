// Once a run has read its file to the end with every window in: a longer file may then
// continue from it even after it was continued once, and a .gz file's last line break
// (which its compressed bytes do not show) is known.
MATCH (c:ImportCheckpoint {key: $key})
SET c.complete = true, c.endsWithNewline = $endsWithNewline, c.updatedAt = $now
