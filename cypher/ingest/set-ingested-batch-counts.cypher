// The counts a write answered with, one per batch in it, on its marker
// (merge-ingested-batch): what a re-run of the same transaction answers again.
MATCH (b:IngestedBatch {token: $token})
SET b.received = $received, b.written = $written
