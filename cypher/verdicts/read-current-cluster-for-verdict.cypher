// The current run's version of a cluster, with the shared values a benign verdict may allow-list.
// The pointer's lock is taken first (the swap, make-run-current, takes it too), and held
// to the commit: a run made current while this verdict is written waits for it, and one
// made current before is the run read here. Unlocked, a verdict could be stored, and
// values allow-listed, for a run that stopped being current before it committed.
MATCH (p:Pointer {name: 'current'})
SET p.verdictLockedAt = timestamp()
WITH p
MATCH (c:Cluster {key: p.runId + '/' + $clusterId})
RETURN c.runId AS runId, c.sharedIdentifiers AS sharedIdentifiers
