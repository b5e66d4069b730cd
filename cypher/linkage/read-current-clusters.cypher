// The clusters readers currently see (through the pointer), with their members:
// what this run's stable ids are matched against.
MATCH (p:Pointer {name: 'current'})
MATCH (c:Cluster {runId: p.runId})
RETURN c.id AS id, COLLECT { MATCH (a:Account)-[:MEMBER_OF]->(c) RETURN a.id } AS members
ORDER BY id
