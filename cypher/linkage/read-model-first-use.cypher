// Each model's first use by any account: min(USED_MODEL.firstUse). The scorer takes a
// model's release from the accounts' own first uses instead (its third account's).
MATCH (:Account)-[u:USED_MODEL]->(m:Model)
RETURN m.name AS name, min(u.firstUse) AS firstSeen
ORDER BY name
