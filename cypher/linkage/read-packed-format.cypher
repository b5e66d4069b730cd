// The page layout the launcher's coterie.linkageAccountsPage writes; fails with
// ProcedureNotFound on a Neo4j without it (extract then reads with Cypher).
CALL coterie.linkageFormat() YIELD format
RETURN format
