// linkage/read-accounts-page packed, as a list of base64 chunks, from the launcher's procedure
// (neo4j-local: LinkageExtract.java; src/linkage/extract-packed.ts reads it).
CALL coterie.linkageAccountsPage($after, $limit, $maxBytes, $notBefore) YIELD page, lastId, more, aged
RETURN page, lastId, more, aged
