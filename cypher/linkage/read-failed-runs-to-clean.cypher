// Failed runs that still have (partial) clusters: never current, so readers ignore
// them; removed to keep the graph small.
MATCH (r:LinkageRun {status: 'failed'})
WHERE EXISTS { MATCH (r)-[:PRODUCED]->(:Cluster) }
  AND NOT EXISTS { MATCH (:Pointer {name: 'current', runId: r.id}) }
RETURN r.id AS runId
