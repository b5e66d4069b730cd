// Bench only: every cluster of the current run with its members, as readers see them.
MATCH (p:Pointer {name: 'current'})
MATCH (c:Cluster {runId: p.runId})
RETURN c.id AS id, c.risk AS risk, c.flagged AS flagged, c.reasons AS reasons,
       COLLECT { MATCH (a:Account)-[:MEMBER_OF]->(c) RETURN a.id } AS members
ORDER BY id
