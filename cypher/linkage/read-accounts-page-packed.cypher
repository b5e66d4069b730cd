// linkage/read-accounts-page as one packed base64 string, from the launcher's procedure
// (neo4j-local: LinkageExtract.java; src/linkage/extract-packed.ts reads it).
CALL coterie.linkageAccountsPage($after, $limit, $maxBytes, $notBefore) YIELD page, lastId, more, aged
RETURN page, lastId, more, aged
