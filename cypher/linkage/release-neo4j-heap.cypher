// Before and after extract: the launcher's Neo4j collects garbage and gives its free heap back
// (LinkageExtract.java); absent on other Neo4j servers, where extract skips it.
CALL coterie.releaseHeap() YIELD before, after
RETURN before, after
