/**
 * Allow-listed subnet ranges (an IPv4 /8–/24, an IPv6 /16–/48) and what they cover: every
 * /24 (/48) inside them and every address in those. Build and score, and the cluster
 * graph's `allowlisted` marks, ask the same question here, so a range means one thing.
 */
import { isIP } from 'node:net';
import { RANGE_PREFIX, canonicalRange, subnetNumber, subnetOf } from '../ingest/subnet';

export class SubnetRanges {
  /** per family, per prefix length, the ranges' network numbers shifted down to it */
  private readonly byPrefix = {
    4: new Map<number, Set<number>>(),
    6: new Map<number, Set<number>>(),
  };
  readonly size: number;

  /** `ranges`: subnet entries' values; one that is no range (canonicalRange) is skipped. */
  constructor(ranges: Iterable<string>) {
    let size = 0;
    for (const text of ranges) {
      const range = canonicalRange(text);
      if (range === null) continue;
      const slash = range.lastIndexOf('/');
      const family = isIP(range.slice(0, slash)) as 4 | 6;
      const prefix = Number(range.slice(slash + 1));
      const max = RANGE_PREFIX[family].max;
      // the range's first /24 (/48) names it: its network number, host bits cleared
      const first = range.slice(0, slash) + '/' + String(max);
      const key = Math.floor((subnetNumber(first) as number) / 2 ** (max - prefix));
      const map = this.byPrefix[family];
      if (!map.has(prefix)) map.set(prefix, new Set());
      const keys = map.get(prefix) as Set<number>;
      if (!keys.has(key)) size++;
      keys.add(key);
    }
    this.size = size;
  }

  /** Whether a listed range holds this /24 or /48 (as ingest writes it). */
  coversSubnet(subnet: string): boolean {
    if (this.size === 0) return false;
    const v4 = V4_SUBNET.exec(subnet);
    if (v4) return this.holds(4, octets(v4));
    const number = subnetNumber(subnet);
    return number !== undefined && subnet.includes(':') && this.holds(6, number);
  }

  /** Whether a listed range holds this address (false for a value that is no IP). */
  coversIp(ip: string): boolean {
    if (this.size === 0) return false;
    // A run asks this of every address: a dotted quad is read here, the rest by subnetOf.
    const v4 = V4_ADDRESS.exec(ip);
    if (v4) return this.holds(4, octets(v4));
    return isIP(ip) !== 0 && this.coversSubnet(subnetOf(ip));
  }

  private holds(family: 4 | 6, number: number): boolean {
    if (Number.isNaN(number)) return false;
    const max = RANGE_PREFIX[family].max;
    for (const [prefix, keys] of this.byPrefix[family])
      if (keys.has(Math.floor(number / 2 ** (max - prefix)))) return true;
    return false;
  }
}

const V4_ADDRESS = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.\d{1,3}$/;
const V4_SUBNET = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.0\/24$/;

/** A /24's 24 network bits from a match's first three octets; NaN past 255. */
function octets(m: RegExpExecArray): number {
  const [a, b, c] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return a > 255 || b > 255 || c > 255 ? NaN : a * 65536 + b * 256 + c;
}
