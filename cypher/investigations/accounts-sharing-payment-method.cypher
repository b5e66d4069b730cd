// @description Accounts that paid with any payment method the given account used, with the shared fingerprints. `aged`: whether the current run linked the two through none of them, each shared method losing one of the two links to age (null when that turns on a link seen again since that run; payment links age only when LINKAGE_LINK_MAX_AGE_DAYS names payment); `pairLastSeen` holds, per shared method, the given account's link's last sighting and the other's.
// @param accountId account
// @param limit int 1..10000 = 100
// @aged payment pairLastSeen
MATCH (a:Account {id: $accountId})-[ra:PAID_WITH]->(pm:PaymentMethod)<-[r:PAID_WITH]-(other:Account)
WHERE other <> a
WITH other, collect(pm.fingerprint) AS paymentMethods, sum(r.count) AS payments,
  min(r.firstSeen) AS firstSeen, max(r.lastSeen) AS lastSeen,
  collect([ra.lastSeen, r.lastSeen]) AS pairLastSeen
RETURN other.id AS accountId, paymentMethods, payments, firstSeen, lastSeen, pairLastSeen
ORDER BY size(paymentMethods) DESC, payments DESC, accountId
LIMIT $limit
