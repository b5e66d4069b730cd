// Each model's first appearance as seen by this provider: min(USED_MODEL.firstUse).
MATCH (:Account)-[u:USED_MODEL]->(m:Model)
RETURN m.name AS name, min(u.firstUse) AS firstSeen
ORDER BY name
