// The counts a keyed batch answered with (merge-batch-key), on its marker: what a resend
// under the same key, or the driver's re-run, answers again.
MATCH (k:IngestedBatchKey {key: $key})
SET k.received = $received, k.written = $written
