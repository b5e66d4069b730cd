// Creates missing accounts and takes their write locks first, in id order, so the
// read-modify-write merges that follow in this transaction cannot lose updates.
UNWIND $ids AS id
MERGE (a:Account {id: id})
SET a.version = coalesce(a.version, 0) + 1
