// @description Accounts that paid with any payment method the given account used, with the shared fingerprints. `aged`: whether the current run left out every one of the other account's links to them as aged (null when one was seen again since that run; payment links age only when LINKAGE_LINK_MAX_AGE_DAYS names payment).
// @param accountId account
// @param limit int 1..10000 = 100
// @aged payment lastSeen
MATCH (a:Account {id: $accountId})-[:PAID_WITH]->(pm:PaymentMethod)<-[r:PAID_WITH]-(other:Account)
WHERE other <> a
WITH other, collect(pm.fingerprint) AS paymentMethods, sum(r.count) AS payments,
  min(r.firstSeen) AS firstSeen, max(r.lastSeen) AS lastSeen
RETURN other.id AS accountId, paymentMethods, payments, firstSeen, lastSeen
ORDER BY size(paymentMethods) DESC, payments DESC, accountId
LIMIT $limit
