// Known-benign shared values kept in the graph (admin API, analysts' verdicts).
MATCH (e:AllowlistEntry)
RETURN e.kind AS kind, e.value AS value, e.source AS source, e.note AS note,
       e.addedBy AS addedBy, e.addedAt AS addedAt
ORDER BY kind, value
