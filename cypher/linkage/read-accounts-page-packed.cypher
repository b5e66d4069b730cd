// linkage/read-accounts-page as one packed byte array, from the launcher's procedure
// (neo4j-local: LinkageExtract.java; src/linkage/extract-packed.ts reads it).
CALL coterie.linkageAccountsPage($after, $limit, $maxBytes) YIELD page, lastId, more
RETURN page, lastId, more
