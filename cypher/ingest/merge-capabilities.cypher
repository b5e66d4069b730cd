// (:Account)-[:REQUESTED {count}]->(:Capability {name}): upstream classifier labels.
UNWIND $rows AS r
MATCH (a:Account {id: r.accountId})
MERGE (c:Capability {name: r.capability})
MERGE (a)-[q:REQUESTED]->(c)
  ON CREATE SET q.count = 0
SET q.count = q.count + toInteger(r.count)
