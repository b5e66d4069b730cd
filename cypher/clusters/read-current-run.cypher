// The run readers see: the `current` Pointer's runId (no row before the first publish).
MATCH (p:Pointer {name: 'current'})
RETURN p.runId AS runId
