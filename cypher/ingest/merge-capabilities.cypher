// (:Account)-[:REQUESTED {count}]->(:Capability {name}): upstream classifier labels.
// Rows come as lists (cheaper to send than maps; writer.ts encodes them): the WITH names the fields.
UNWIND $rows AS row
WITH row[0] AS accountId, row[1] AS capability, row[2] AS events
MATCH (a:Account {id: accountId})
MERGE (c:Capability {name: capability})
MERGE (a)-[q:REQUESTED]->(c)
  ON CREATE SET q.count = 0
SET q.count = q.count + toInteger(events)
