// The run readers see: the `current` Pointer's runId, and its version (one up at every
// swap; null on a pointer from before versions) to tell an older pointer from a newer
// one. No row before the first publish.
MATCH (p:Pointer {name: 'current'})
RETURN p.runId AS runId, p.version AS version
