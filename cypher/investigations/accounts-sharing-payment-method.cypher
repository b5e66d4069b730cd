// @description Accounts that paid with any payment method the given account used, with the shared fingerprints.
// @param accountId account
// @param limit int 1..10000 = 100
MATCH (a:Account {id: $accountId})-[:PAID_WITH]->(pm:PaymentMethod)<-[r:PAID_WITH]-(other:Account)
WHERE other <> a
WITH other, collect(pm.fingerprint) AS paymentMethods, sum(r.count) AS payments,
  min(r.firstSeen) AS firstSeen, max(r.lastSeen) AS lastSeen
RETURN other.id AS accountId, paymentMethods, payments, firstSeen, lastSeen
ORDER BY size(paymentMethods) DESC, payments DESC, accountId
LIMIT $limit
