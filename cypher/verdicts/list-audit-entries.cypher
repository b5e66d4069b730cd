// Audit records, newest first, keyset-paged by (at, id). A page ends early once its
// entries' params pass $maxChars characters (a console query's entry holds its text and
// parameters, up to ~85,000 characters, so 1,000 of them were ~100 MB): the entry that
// passes it is the page's last, so every page holds at least one. `cutShort` says entries
// were left for the next page.
MATCH (e:AuditEntry)
WHERE e.at <= coalesce($beforeAt, 9223372036854775807)
  AND ($beforeAt IS NULL OR e.at < $beforeAt OR e.id < $beforeId)
  AND ($action IS NULL OR e.action = $action)
WITH e
ORDER BY e.at DESC, e.id DESC
LIMIT $limit
WITH collect(e) AS entries
WITH entries,
     reduce(acc = [0, 0], x IN entries |
       CASE WHEN acc[1] > $maxChars THEN acc
            ELSE [acc[0] + 1, acc[1] + size(coalesce(x.params, ''))] END)[0] AS kept
UNWIND entries[0..kept] AS e
RETURN e {.*} AS entry, kept < size(entries) AS cutShort
