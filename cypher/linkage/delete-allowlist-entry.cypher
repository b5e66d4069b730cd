// Removes a stored allow-list entry; returns how many were removed (0 or 1).
OPTIONAL MATCH (e:AllowlistEntry {key: $key})
DETACH DELETE e
RETURN count(e) AS deleted
