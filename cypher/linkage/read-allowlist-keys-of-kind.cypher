// The stored allow-list entries of one kind, keys and values: a DELETE finds those that
// spell its value otherwise (an older graph's or verdict's `gmail.com.`).
MATCH (e:AllowlistEntry {kind: $kind})
RETURN e.key AS key, e.value AS value
