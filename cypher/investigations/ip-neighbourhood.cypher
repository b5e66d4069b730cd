// @description Accounts seen anywhere in the subnet (/24 IPv4, /48 IPv6) of an IP address, whether or not the address itself was seen; accounts on the address first. Pass an address, or a subnet CIDR such as 10.1.2.0/24. `aged`: whether the current run linked the account to nothing in the subnet, every one of its IP links there left out as aged (null when that turns on a link seen again since that run); `linkLastSeen` holds each link's last sighting.
// @param address ip
// @param limit int 1..10000 = 200
// @aged ip linkLastSeen
// $address arrives as {address, subnet}: the canonical address (null when a subnet was
// given) and the CIDR of the subnet holding it, derived as ingest derives it.
MATCH (s:Subnet {cidr: $address.subnet})<-[:IN_SUBNET]-(ip:IP)<-[r:CONNECTED_FROM]-(a:Account)
// linkLastSeen keeps a link without lastSeen (never aged) as null: collect() drops nulls.
WITH s, a, collect(ip.address) AS addresses, sum(r.count) AS requests,
  min(r.firstSeen) AS firstSeen, max(r.lastSeen) AS lastSeen,
  [l IN collect([r.lastSeen]) | l[0]] AS linkLastSeen
RETURN a.id AS accountId, coalesce($address.address IN addresses, false) AS onAddress,
  addresses, s.cidr AS subnet, requests, firstSeen, lastSeen, linkLastSeen
ORDER BY onAddress DESC, requests DESC, accountId
LIMIT $limit
