// The run readers currently see (null before the first successful run).
OPTIONAL MATCH (p:Pointer {name: 'current'})
RETURN p.runId AS runId
