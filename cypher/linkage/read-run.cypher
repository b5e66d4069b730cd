// One run record, and whether readers currently see it.
MATCH (r:LinkageRun {id: $id})
OPTIONAL MATCH (p:Pointer {name: 'current'})
RETURN r {.*} AS run, p.runId = r.id AS current
