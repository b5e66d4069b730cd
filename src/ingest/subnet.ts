/**
 * Canonical IP addresses and the subnet an address belongs to: /24 for IPv4,
 * /48 for IPv6. Canonical forms matter because "2001:DB8::1" and
 * "2001:db8:0:0::1" must become one IP node, not two.
 */
import { isIP, isIPv4, isIPv6 } from 'node:net';

/** Lower-case, zero-compressed IPv6 (RFC 5952) or dotted-quad IPv4; IPv4-mapped IPv6 becomes IPv4. */
export function canonicalIp(address: string): string {
  // node's isIPv4 admits no leading zeros, so a dotted quad it accepts is canonical already.
  if (isIPv4(address)) return address;
  if (!isIPv6(address)) throw new Error(`not an IP address: ${address}`);
  const groups = expandIPv6(address);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [hi, lo] = [groups[6] as number, groups[7] as number];
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return compressIPv6(groups);
}

/** "a.b.c.0/24" for IPv4, "x:y:z::/48" for IPv6. */
export function subnetOf(address: string): string {
  const ip = canonicalIp(address);
  if (isIPv4(ip)) {
    const [a, b, c] = ip.split('.');
    return `${a}.${b}.${c}.0/24`;
  }
  const groups = expandIPv6(ip);
  return `${compressIPv6([...groups.slice(0, 3), 0, 0, 0, 0, 0])}/48`;
}

/**
 * A subnet in CIDR form as ingest derives it ("10.1.2.7/24" → "10.1.2.0/24",
 * "2001:DB8:1::/48" → "2001:db8:1::/48"), or null when it is not an IPv4 /24 or an
 * IPv6 /48: the graph holds no other subnets. An IPv4-mapped IPv6 address
 * ("::ffff:10.1.2.7") is refused whatever its prefix: ingest stores it as IPv4, in its
 * /24, and its /48 is ::/48, not that /24 (subnetHint says what to write instead).
 */
export function canonicalSubnet(cidr: string): string | null {
  const slash = cidr.lastIndexOf('/');
  if (slash <= 0) return null;
  const address = cidr.slice(0, slash);
  const prefix = cidr.slice(slash + 1);
  const family = isIP(address);
  if (family === 4) return prefix === '24' ? subnetOf(address) : null;
  if (family === 6 && prefix === '48' && !isIPv4(canonicalIp(address))) return subnetOf(address);
  return null;
}

/** Widest ranges an allow-list entry may name: wider would clear whole regions of the net. */
export const RANGE_PREFIX = { 4: { min: 8, max: 24 }, 6: { min: 16, max: 48 } } as const;

/**
 * A range of subnets in CIDR form with its host bits cleared ("10.1.17.5/20" →
 * "10.1.16.0/20"), or null: IPv4 /8 to /24 and IPv6 /16 to /48 (RANGE_PREFIX), never an
 * IPv4-mapped address. At /24 and /48 it is canonicalSubnet's form. Ranges are what
 * the allow-list takes: a gateway's or a campus's published block covers every /24
 * (/48) inside it, and every address.
 */
export function canonicalRange(cidr: string): string | null {
  const slash = cidr.lastIndexOf('/');
  if (slash <= 0 || !/^(0|[1-9]\d{0,2})$/.test(cidr.slice(slash + 1))) return null;
  const address = cidr.slice(0, slash);
  const prefix = Number(cidr.slice(slash + 1));
  const family = isIP(address);
  if (family !== 4 && family !== 6) return null;
  if (family === 6 && isIPv4(canonicalIp(address))) return null;
  const { min, max } = RANGE_PREFIX[family];
  if (prefix < min || prefix > max) return null;
  const bits = max - prefix;
  const number = subnetNumber(subnetOf(address)) as number;
  const network = Math.floor(number / 2 ** bits) * 2 ** bits;
  if (family === 4)
    return `${network >>> 16}.${(network >>> 8) & 255}.${network & 255}.0/${prefix}`;
  const groups = [
    Math.floor(network / 2 ** 32),
    Math.floor(network / 2 ** 16) % 65536,
    network % 65536,
  ];
  return `${compressIPv6([...groups, 0, 0, 0, 0, 0])}/${prefix}`;
}

/**
 * A /24 or /48 as subnetOf writes it, as a number: an IPv4 /24's 24 network bits, an
 * IPv6 /48's 48 (below 2^53, so exact). Undefined for anything else.
 */
export function subnetNumber(subnet: string): number | undefined {
  const slash = subnet.lastIndexOf('/');
  const address = subnet.slice(0, slash);
  const prefix = subnet.slice(slash + 1);
  const family = isIP(address);
  if (family === 4 && prefix === '24') {
    const [a, b, c] = address.split('.').map(Number) as [number, number, number];
    return a * 65536 + b * 256 + c;
  }
  if (family === 6 && prefix === '48') {
    const [g0, g1, g2] = expandIPv6(address) as [number, number, number];
    return g0 * 2 ** 32 + g1 * 2 ** 16 + g2;
  }
  return undefined;
}

/**
 * Why canonicalRange refuses a CIDR when a general message would not say, for an
 * IPv4-mapped address: a mapped block (/104 to /120) is named by the IPv4 block it is
 * (`::ffff:10.1.0.0/112` is 10.1.0.0/16); a mapped prefix narrower than that names the
 * address and its /24 (a run links on /24s), a wider one says so; one of /96 or less is
 * no IPv4 block but a subnet prefix on an address, named by the /24 ingest derives, as
 * subnetHint says. Undefined for anything else, a prefix that is no number included.
 */
export function rangeHint(cidr: string): string | undefined {
  const slash = cidr.lastIndexOf('/');
  const address = cidr.slice(0, slash);
  const prefixText = cidr.slice(slash + 1);
  if (slash <= 0 || isIP(address) !== 6 || !/^(0|[1-9]\d{0,2})$/.test(prefixText)) return undefined;
  const ip = canonicalIp(address);
  const v4 = Number(prefixText) - 96;
  const { min, max } = RANGE_PREFIX[4];
  if (!isIPv4(ip) || v4 > 32) return undefined;
  if (v4 <= 0) return subnetHint(cidr);
  const why = 'an IPv4-mapped IPv6 address is stored as IPv4';
  if (v4 < min) return `is wider than an IPv4 /${min}, the widest block listed: ${why}`;
  if (v4 > max) {
    return `is narrower than an IPv4 /${max}: list the address as kind ip, ${ip}, or its /${max}, ${subnetOf(ip)} (${why})`;
  }
  return `must be given as its IPv4 block, ${canonicalRange(`${ip}/${v4}`) as string}: ${why}`;
}

/**
 * Why canonicalSubnet refuses a CIDR when a general "must be a /24 or /48" would not
 * say: an IPv4-mapped address is named by its IPv4 /24. Undefined otherwise.
 */
export function subnetHint(cidr: string): string | undefined {
  const slash = cidr.lastIndexOf('/');
  if (slash <= 0) return undefined;
  const address = cidr.slice(0, slash);
  if (isIP(address) !== 6) return undefined;
  const ip = canonicalIp(address);
  return isIPv4(ip)
    ? `must be given as its IPv4 /24, ${subnetOf(ip)}: an IPv4-mapped IPv6 address is stored as IPv4`
    : undefined;
}

function expandIPv6(address: string): number[] {
  let text = address.toLowerCase();
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  // An embedded IPv4 tail ("::ffff:1.2.3.4") becomes two hex groups.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  const all = [
    ...headGroups,
    ...Array<string>(tail === undefined ? 0 : missing).fill('0'),
    ...tailGroups,
  ];
  return all.map((g) => parseInt(g, 16));
}

function compressIPv6(groups: number[]): string {
  // Longest run of two or more zero groups becomes "::" (first one on ties).
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [bestStart, bestLen] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}
