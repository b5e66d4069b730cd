// @description Accounts seen on an IP address or anywhere in its subnet (/24 IPv4, /48 IPv6). Pass an address, or a subnet CIDR such as 10.1.2.0/24.
// @param address string
// @param limit int 1..10000 = 200
OPTIONAL MATCH (:IP {address: $address})-[:IN_SUBNET]->(viaIp:Subnet)
OPTIONAL MATCH (direct:Subnet {cidr: $address})
WITH coalesce(viaIp, direct) AS s
MATCH (s)<-[:IN_SUBNET]-(ip:IP)<-[r:CONNECTED_FROM]-(a:Account)
WITH s, a, collect(ip.address) AS addresses, sum(r.count) AS requests,
  min(r.firstSeen) AS firstSeen, max(r.lastSeen) AS lastSeen
RETURN a.id AS accountId, $address IN addresses AS onAddress, addresses, s.cidr AS subnet,
  requests, firstSeen, lastSeen
ORDER BY onAddress DESC, requests DESC, accountId
LIMIT $limit
