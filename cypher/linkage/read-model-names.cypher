// The models accounts used, by name: the order the scorer lists releases in. Each
// release is taken from the accounts' own first uses (signals/context.ts), so nothing
// is read from the USED_MODEL relationships here (a min over all of them was a full
// scan whose value nothing read; review, 12-05).
MATCH (m:Model)
RETURN m.name AS name
ORDER BY name
