// Which of these ids a succeeded run has published: a new cluster must not take the id,
// and so the history, of one retired before the previous run (the matcher only knows
// the previous run's). Failed runs' clusters do not count: housekeeping deletes them,
// and a retry must draw the ids its failed attempt drew.
UNWIND $ids AS id
MATCH (c:Cluster {id: id})
WHERE EXISTS { MATCH (:LinkageRun {id: c.runId, status: 'succeeded'}) }
RETURN DISTINCT id
