/**
 * Near-duplicate prompt fingerprints by LSH banding, never by comparing all pairs.
 *
 * Fingerprints are 64-bit SimHashes (16 hex chars). Two are near-duplicates when
 * their Hamming distance is ≤ d. Split the 64 bits into d + 1 bands: by the
 * pigeonhole principle two fingerprints differing in at most d bits differ in at
 * most d bands, so at least one band is identical. Split into d + 2 bands, at least
 * two are, so pairs of bands serve as wider keys with far fewer chance collisions
 * (indexKeys). Candidates are the pairs that share a key (bucketed per key), and
 * each candidate gets an exact Hamming check. Near-duplicates are unioned
 * (union-find) into template groups, so accounts sending slightly different copies
 * of one prompt share a template. A large bucket whose members are far apart (many
 * fingerprints sharing a key's bits, as a client can send on purpose) is not compared
 * member by member: it is split by sub-bands of the bits its members differ in, by
 * the same pigeonhole, and so on down (BucketGrouper). Allow-listed fingerprints are
 * looked up by the same keys (allowedGroups): they mark the templates they are near,
 * never join them.
 */
import { popcount32 } from '../ingest/simhash';
import { StringIndex } from './growable';
import type { IdentifierTable } from './identifier-table';
import type { Identifier } from './types';

/** Value of one hex digit (either case), or -1. */
function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48; // 0-9
  if (c >= 97 && c <= 102) return c - 87; // a-f
  if (c >= 65 && c <= 70) return c - 55; // A-F
  return -1;
}

/**
 * Parse a 16-hex fingerprint (either case) into its two unsigned 32-bit halves,
 * or null if malformed. Char codes, not slices: this runs once per fingerprint.
 */
export function parseFingerprint(hex: string): [number, number] | null {
  const hi = new Uint32Array(1);
  const lo = new Uint32Array(1);
  return parseInto(hex, hi, lo, 0) ? [hi[0] as number, lo[0] as number] : null;
}

/** Parses a 16-hex fingerprint into hi[at], lo[at]; false (nothing written) if malformed. */
function parseInto(hex: string, hi: Uint32Array, lo: Uint32Array, at: number): boolean {
  if (hex.length !== 16) return false;
  const h = parseHalf(hex, 0);
  const l = parseHalf(hex, 8);
  if (h < 0 || l < 0) return false;
  hi[at] = h;
  lo[at] = l;
  return true;
}

/** The 32-bit value of 8 hex digits from `at`, or -1 (no array per fingerprint). */
function parseHalf(hex: string, at: number): number {
  let x = 0;
  for (let i = at; i < at + 8; i++) {
    const d = hexDigit(hex.charCodeAt(i));
    if (d < 0) return -1;
    x = x * 16 + d;
  }
  return x;
}

/** `width` bits of a 32-bit word starting at bit `from` (0 = most significant). */
function take(x: number, from: number, width: number): number {
  if (width === 0) return 0;
  const shifted = x >>> (32 - from - width);
  return width === 32 ? shifted >>> 0 : (shifted & ((1 << width) - 1)) >>> 0;
}

/** Bits [start, start + width) of the 64-bit (hi, lo), width ≤ 32, as a number. */
function bandKey(hi: number, lo: number, start: number, width: number): number {
  if (start + width <= 32) return take(hi, start, width);
  if (start >= 32) return take(lo, start - 32, width);
  const w1 = 32 - start;
  const w2 = width - w1;
  return take(hi, start, w1) * 2 ** w2 + take(lo, 0, w2);
}

/** Band widths: `bits` (64) bits split as evenly as possible into `bands` parts. */
function bandWidths(bands: number, bits = 64): number[] {
  const base = Math.floor(bits / bands);
  const extra = bits % bands;
  return Array.from({ length: bands }, (_, b) => base + (b < extra ? 1 : 0));
}

export interface NearDuplicateStats {
  /** candidate pairs whose distance was computed (sharing a key; grouping skips most) */
  candidates: number;
  /** near-duplicate pairs reported (each once); when grouping, those that joined two groups */
  pairs: number;
  /**
   * grouping only: members sorted into sub-buckets, summed over the sub-bands of every
   * bucket split because its members were far apart (BucketGrouper)
   */
  rebucketed: number;
}

/**
 * The keys candidates must share, as lists of band indexes. Split into d + 1 bands,
 * two fingerprints within d bits agree on at least one band; split into d + 2, on at
 * least two, so every pair of those bands is a key too, about twice as wide. Chance
 * collisions fall with a key's width: 16-bit bands (d = 3) put about 4 · n²/2^17
 * unrelated pairs into shared buckets (875 M candidates for 5.4 M fingerprints),
 * pairs of 12–13-bit bands about 10 · n²/2^26. Whichever expects fewer is used;
 * keys stay within 32 bits.
 */
function indexKeys(maxHamming: number): { widths: number[]; keys: number[][] } {
  const single = bandWidths(maxHamming + 1);
  const paired = bandWidths(maxHamming + 2);
  const narrowest = (w: number[]) => Math.min(...w);
  const pairCount = (paired.length * (paired.length - 1)) / 2;
  const pairWidth = 2 * narrowest(paired);
  const pairsFit = 2 * Math.max(...paired) <= 32;
  if (!pairsFit || single.length / 2 ** narrowest(single) <= pairCount / 2 ** pairWidth) {
    return { widths: single, keys: single.map((_, b) => [b]) };
  }
  const keys: number[][] = [];
  for (let b1 = 0; b1 < paired.length; b1++)
    for (let b2 = b1 + 1; b2 < paired.length; b2++) keys.push([b1, b2]);
  return { widths: paired, keys };
}

function checkMaxHamming(maxHamming: number): void {
  if (!Number.isInteger(maxHamming) || maxHamming < 0 || maxHamming > 31) {
    throw new RangeError(`maxHamming must be an integer in [0, 31], got ${maxHamming}`);
  }
}

function distance(hi: Uint32Array, lo: Uint32Array, i: number, j: number): number {
  return (
    popcount32(((hi[i] as number) ^ (hi[j] as number)) >>> 0) +
    popcount32(((lo[i] as number) ^ (lo[j] as number)) >>> 0)
  );
}

/** Every fingerprint's bands (indexKeys), one array per band. */
function bandsOf(hi: Uint32Array, lo: Uint32Array, widths: number[]): Uint32Array[] {
  const n = hi.length;
  const bands: Uint32Array[] = [];
  let start = 0;
  for (const width of widths) {
    const band = new Uint32Array(n);
    for (let i = 0; i < n; i++) band[i] = bandKey(hi[i] as number, lo[i] as number, start, width);
    bands.push(band);
    start += width;
  }
  return bands;
}

/** Calls visit(k, members, from, to) for every bucket of ≥ 2 of every key k in turn. */
function forEachBucket(
  n: number,
  widths: number[],
  keys: number[][],
  bands: Uint32Array[],
  visit: (k: number, members: Int32Array, from: number, to: number) => void,
): void {
  const buckets = new Bucketer(n);
  keys.forEach((bandsOfKey, k) => {
    const [first, second] = bandsOfKey as [number, number?];
    const key: BandKey = { high: bands[first] as Uint32Array, highWidth: widths[first] as number };
    if (second !== undefined) {
      key.low = bands[second];
      key.lowWidth = widths[second];
    }
    buckets.forEach(key, (members, from, to) => visit(k, members, from, to));
  });
}

/**
 * Unions in `uf` every two fingerprints at Hamming distance ≤ maxHamming, so its
 * groups end as the transitive closure, the same groups as unioning every pair
 * (only the order of unions differs, and templateGroups numbers groups by first
 * member). Within a bucket only pairs in different groups matter, and of those
 * only one near pair per two groups: a popular template's variants fill whole
 * buckets, so visiting every pair (even to skip it) costs the square of their number.
 * Many groups in one bucket (fingerprints sharing a key yet far apart) are split into
 * sub-buckets instead (BucketGrouper).
 */
export function groupNearDuplicates(
  hi: Uint32Array,
  lo: Uint32Array,
  maxHamming: number,
  uf: UnionFind,
): NearDuplicateStats {
  checkMaxHamming(maxHamming);
  const stats: NearDuplicateStats = { candidates: 0, pairs: 0, rebucketed: 0 };
  if (maxHamming === 0) return exactDuplicateGroups(hi, lo, uf, stats);
  const { widths, keys } = indexKeys(maxHamming);
  const bands = bandsOf(hi, lo, widths);
  const starts = widths.map((_, b) => widths.slice(0, b).reduce((s, w) => s + w, 0));
  const keyBits = keys.map((key) =>
    key.reduce<[number, number]>(
      (bits, band) => orBits(bits, bitMask(starts[band] as number, widths[band] as number)),
      [0, 0],
    ),
  );
  const grouper = new BucketGrouper(hi, lo, maxHamming, uf, stats);
  let current = -1;
  forEachBucket(hi.length, widths, keys, bands, (k, members, from, to) => {
    if (k !== current) {
      // Every bucket of the keys before k is grouped: one that holds a whole bucket
      // of k has grouped its near pairs already.
      grouper.setCovers(keyBits.slice(0, k));
      current = k;
    }
    grouper.group(members, from, to, k);
  });
  return stats;
}

/** The (hi, lo) mask of bits [start, start + width) of a fingerprint (0 = most significant). */
function bitMask(start: number, width: number): [number, number] {
  let h = 0;
  let l = 0;
  for (let p = start; p < start + width; p++) {
    if (p < 32) h |= 1 << (31 - p);
    else l |= 1 << (63 - p);
  }
  return [h >>> 0, l >>> 0];
}

function orBits(a: [number, number], b: [number, number]): [number, number] {
  return [(a[0] | b[0]) >>> 0, (a[1] | b[1]) >>> 0];
}

/** Buckets up to this size compare their pairs directly (most buckets hold 2). */
const SMALL_BUCKET = 32;

/**
 * Distances groupLarge may compute per member of a bucket before giving up on it and
 * splitting it (BucketGrouper). A popular template's variants take a few per member.
 */
const CHECKS_PER_MEMBER = 8;

/**
 * Unions a bucket's near pairs. A small bucket compares its pairs (groupSmall); a
 * large one compares each member with one member per group at best (groupLarge),
 * but with every group of the bucket when they are far apart: fingerprints sharing a
 * key yet more than maxHamming apart (as a client can send on purpose) would cost
 * the square of their number, at each key they share. So, for a large bucket:
 *
 * - Only the bits on which its members differ matter (varying bits); the others,
 *   the key's among them, are the same for all.
 * - If its members agree on the bits of a key grouped before (an earlier key, or an
 *   earlier sub-band at a split below), they all lay in one bucket of it, whose near
 *   pairs are unioned already: the bucket is skipped (keys sharing bands often give
 *   the very same bucket).
 * - If at most maxHamming bits vary, every two members are near: all are unioned.
 * - Otherwise groupLarge runs with a budget of CHECKS_PER_MEMBER distances per member;
 *   past it, the bucket is split (split): its varying bits into maxHamming + 1
 *   sub-bands, its members into sub-buckets by each sub-band's value, each grouped in
 *   turn the same way. Two members within maxHamming bits differ in at most
 *   maxHamming varying bits, so by pigeonhole they agree on one sub-band and share its
 *   sub-bucket: nothing is lost (unions made before the split are near pairs all the
 *   same). Every sub-band holds a varying bit, so every sub-bucket is smaller than the
 *   bucket and has fewer varying bits: the split ends.
 *
 * Cost, measured (not a proven bound): n fingerprints sharing their top 40 bits took
 * 1.5 · n² distances before (6,000 per fingerprint at n = 4,000), now 40–105 per
 * fingerprint for n = 1,000–16,000 at d = 3; the worst seen, at d = 8 with 38 random
 * bits, 700–850 per fingerprint (8,000 before at n = 4,000). Buckets of near variants
 * stay within the budget and are grouped as before.
 */
class BucketGrouper {
  /** bucket group of a union-find root, -1 if none (reset after each bucket) */
  private groupOfRoot: Int32Array | undefined;
  /** a large bucket's members in fingerprint order; lists below hold positions in it */
  private order = new Int32Array(64);
  /** next position in the same group's list, -1 at the end */
  private next = new Int32Array(64);
  private head = new Int32Array(64);
  private tail = new Int32Array(64);
  private root = new Int32Array(64);
  /** groups not merged into another, in no particular order */
  private alive = new Int32Array(64);
  /**
   * Bits (hi, lo masks) of the keys and sub-bands grouped before the current bucket:
   * a bucket whose members agree on one of them is grouped already. A stack: a split
   * pushes its sub-bands above the covers its bucket was given.
   */
  private coverHi: number[] = [];
  private coverLo: number[] = [];

  constructor(
    private readonly hi: Uint32Array,
    private readonly lo: Uint32Array,
    private readonly maxHamming: number,
    private readonly uf: UnionFind,
    private readonly stats: NearDuplicateStats,
  ) {}

  /** The keys grouped before the buckets to come, covers 0.. of group. */
  setCovers(bits: [number, number][]): void {
    bits.forEach(([h, l], c) => {
      this.coverHi[c] = h;
      this.coverLo[c] = l;
    });
  }

  /** Unions the near pairs of members[from, to), given its first `covers` covers. */
  group(members: Int32Array, from: number, to: number, covers: number): void {
    if (to - from <= SMALL_BUCKET) {
      this.groupSmall(members, from, to);
      return;
    }
    const { hi, lo, uf, stats } = this;
    const first = members[from] as number;
    const h0 = hi[first] as number;
    const l0 = lo[first] as number;
    let varyHi = 0;
    let varyLo = 0;
    for (let x = from + 1; x < to; x++) {
      const i = members[x] as number;
      varyHi |= (hi[i] as number) ^ h0;
      varyLo |= (lo[i] as number) ^ l0;
    }
    varyHi >>>= 0;
    varyLo >>>= 0;
    for (let c = 0; c < covers; c++) {
      if (
        ((this.coverHi[c] as number) & varyHi) === 0 &&
        ((this.coverLo[c] as number) & varyLo) === 0
      )
        return;
    }
    if (popcount32(varyHi) + popcount32(varyLo) <= this.maxHamming) {
      for (let x = from + 1; x < to; x++) {
        const i = members[x] as number;
        if (uf.find(i) === uf.find(first)) continue;
        stats.pairs++;
        uf.union(first, i);
      }
      return;
    }
    if (this.groupLarge(members, from, to, CHECKS_PER_MEMBER * (to - from))) return;
    this.split(members, from, to, varyHi, varyLo, covers);
  }

  /** Groups members[from, to) by sub-bands of its varying bits (see the class). */
  private split(
    members: Int32Array,
    from: number,
    to: number,
    varyHi: number,
    varyLo: number,
    covers: number,
  ): void {
    const { hi, lo, stats } = this;
    const positions: number[] = [];
    for (let p = 0; p < 64; p++) {
      const set = p < 32 ? (varyHi >>> (31 - p)) & 1 : (varyLo >>> (63 - p)) & 1;
      if (set) positions.push(p);
    }
    const sub = members.slice(from, to);
    let at = 0;
    bandWidths(this.maxHamming + 1, positions.length).forEach((width, j) => {
      let subHi = 0;
      let subLo = 0;
      for (const p of positions.slice(at, at + width)) {
        if (p < 32) subHi |= 1 << (31 - p);
        else subLo |= 1 << (63 - p);
      }
      at += width;
      const mh = subHi >>> 0;
      const ml = subLo >>> 0;
      sub.sort(
        (a, b) =>
          ((hi[a] as number) & mh) - ((hi[b] as number) & mh) ||
          ((lo[a] as number) & ml) - ((lo[b] as number) & ml),
      );
      stats.rebucketed += sub.length;
      let start = 0;
      for (let x = 1; x <= sub.length; x++) {
        const same =
          x < sub.length &&
          ((hi[sub[x] as number] as number) & mh) === ((hi[sub[start] as number] as number) & mh) &&
          ((lo[sub[x] as number] as number) & ml) === ((lo[sub[start] as number] as number) & ml);
        if (same) continue;
        if (x - start >= 2) this.group(sub, start, x, covers + j);
        start = x;
      }
      // Grouped: later sub-bands' sub-buckets agreeing on this one are covered.
      this.coverHi[covers + j] = mh;
      this.coverLo[covers + j] = ml;
    });
  }

  private groupSmall(members: Int32Array, from: number, to: number): void {
    const { hi, lo, uf, stats } = this;
    for (let x = from; x < to; x++) {
      const i = members[x] as number;
      for (let y = x + 1; y < to; y++) {
        const j = members[y] as number;
        if (uf.find(i) === uf.find(j)) continue;
        stats.candidates++;
        if (distance(hi, lo, i, j) > this.maxHamming) continue;
        stats.pairs++;
        uf.union(i, j);
      }
    }
  }

  /**
   * Members are taken in fingerprint order, each compared with the members taken
   * before it, bucket group by bucket group (a group is the members with one
   * union-find root), never within its own group, and with a group only until the
   * first near member: after that union the rest of the group is the member's own.
   * Why nothing is lost: if y came before x and the two are within distance, then
   * when x is taken either they already share a root, or y's group is scanned to its
   * end unless a near member turns up first, which unions x with y's group all the
   * same. Groups only change by this bucket's unions, so the root → group map stays
   * right. In fingerprint order a member's most likely near-duplicate is the one just
   * taken, and groups are scanned newest first. At most `budget` distances: false
   * when they run out, with the unions made so far kept (each joined a near pair).
   */
  private groupLarge(members: Int32Array, from: number, to: number, budget: number): boolean {
    const { hi, lo, uf, stats } = this;
    const size = to - from;
    this.reserve(size);
    const { next, head, tail, root, alive } = this;
    const groupOfRoot = (this.groupOfRoot ??= new Int32Array(hi.length).fill(-1));
    const order = this.order.subarray(0, size);
    order.set(members.subarray(from, to));
    order.sort(
      (a, b) => (hi[a] as number) - (hi[b] as number) || (lo[a] as number) - (lo[b] as number),
    );
    let groups = 0;
    let aliveCount = 0;
    for (let t = 0; t < size; t++) {
      const x = order[t] as number;
      let own = groupOfRoot[uf.find(x)] as number;
      for (let a = 0; a < aliveCount;) {
        const g = alive[a] as number;
        if (g === own) {
          a++;
          continue;
        }
        let near = -1;
        for (let y = head[g] as number; y !== -1; y = next[y] as number) {
          if (budget-- === 0) {
            this.release(aliveCount);
            return false;
          }
          stats.candidates++;
          if (distance(hi, lo, x, order[y] as number) <= this.maxHamming) {
            near = order[y] as number;
            break;
          }
        }
        if (near === -1) {
          a++;
          continue;
        }
        stats.pairs++;
        const oldRoot = uf.find(x);
        const gRoot = root[g] as number;
        uf.union(x, near);
        const newRoot = uf.find(x);
        groupOfRoot[oldRoot] = -1;
        groupOfRoot[gRoot] = -1;
        if (own === -1) {
          // x's root had no group here: x joins g.
          own = g;
          a++;
        } else {
          // g's members join x's group; g leaves the alive list (the last takes its place).
          next[tail[own] as number] = head[g] as number;
          tail[own] = tail[g] as number;
          alive[a] = alive[--aliveCount] as number;
        }
        root[own] = newRoot;
        groupOfRoot[newRoot] = own;
      }
      if (own === -1) {
        own = groups++;
        head[own] = t;
        tail[own] = t;
        next[t] = -1;
        root[own] = uf.find(x);
        groupOfRoot[root[own] as number] = own;
        alive[aliveCount++] = own;
      } else {
        next[t] = head[own] as number;
        head[own] = t;
      }
    }
    this.release(aliveCount);
    return true;
  }

  /** Clears groupOfRoot of the bucket's groups (the first `aliveCount` of alive). */
  private release(aliveCount: number): void {
    const { groupOfRoot, root, alive } = this;
    if (!groupOfRoot) return;
    for (let a = 0; a < aliveCount; a++) groupOfRoot[root[alive[a] as number] as number] = -1;
  }

  private reserve(size: number): void {
    if (this.order.length >= size) return;
    const length = Math.max(size, 2 * this.order.length);
    this.order = new Int32Array(length);
    this.next = new Int32Array(length);
    this.head = new Int32Array(length);
    this.tail = new Int32Array(length);
    this.root = new Int32Array(length);
    this.alive = new Int32Array(length);
  }
}

/** A bucketing key: one band, or two side by side (`high` then `low`), ≤ 32 bits. */
interface BandKey {
  high: Uint32Array;
  highWidth: number;
  low?: Uint32Array;
  lowWidth?: number;
}

/**
 * Groups indexes by a key and calls visit(members, from, to) for every bucket of ≥ 2,
 * members ascending within a bucket. A counting sort on keys of up to 16 bits; wider
 * keys take two stable passes, low half first. Keys travel with their indexes, so
 * every pass reads sequentially (at millions of fingerprints, random reads of the key
 * per element cost more than the sort). Arrays are reused from key to key.
 */
class Bucketer {
  private keys: Uint32Array;
  private members: Int32Array;
  private nextKeys: Uint32Array;
  private nextMembers: Int32Array;
  private readonly count = new Int32Array(2 ** 16 + 1);

  constructor(private readonly n: number) {
    this.keys = new Uint32Array(n);
    this.members = new Int32Array(n);
    this.nextKeys = new Uint32Array(n);
    this.nextMembers = new Int32Array(n);
  }

  forEach(key: BandKey, visit: (members: Int32Array, from: number, to: number) => void): void {
    const n = this.n;
    const { high, low } = key;
    const lowWidth = low ? (key.lowWidth ?? 0) : 0;
    const width = key.highWidth + lowWidth;
    const scale = 2 ** lowWidth;
    const keys = this.keys;
    if (low) for (let i = 0; i < n; i++) keys[i] = (high[i] as number) * scale + (low[i] as number);
    else keys.set(high);
    for (let i = 0; i < n; i++) this.members[i] = i;
    if (width > 16) {
      const half = width >>> 1;
      this.pass(0, half);
      this.pass(half, width - half);
    } else this.pass(0, width);
    const sorted = this.keys;
    const members = this.members;
    let from = 0;
    for (let x = 1; x <= n; x++) {
      if (x === n || sorted[x] !== sorted[from]) {
        if (x - from >= 2) visit(members, from, x);
        from = x;
      }
    }
  }

  /** Stable counting sort of (keys, members) by bits [shift, shift + bits) of the key. */
  private pass(shift: number, bits: number): void {
    const { n, count, keys, members, nextKeys, nextMembers } = this;
    const size = 2 ** bits;
    const mask = size - 1;
    count.fill(0, 0, size + 1);
    for (let x = 0; x < n; x++) {
      const d = (((keys[x] as number) >>> shift) & mask) + 1;
      count[d] = (count[d] as number) + 1;
    }
    for (let d = 0; d < size; d++) count[d + 1] = (count[d + 1] as number) + (count[d] as number);
    for (let x = 0; x < n; x++) {
      const k = keys[x] as number;
      const d = (k >>> shift) & mask;
      const at = count[d] as number;
      nextKeys[at] = k;
      nextMembers[at] = members[x] as number;
      count[d] = at + 1;
    }
    this.keys = nextKeys;
    this.members = nextMembers;
    this.nextKeys = keys;
    this.nextMembers = members;
  }
}

/** Unions equal fingerprints, each with the first of its value (not every pair of them). */
function exactDuplicateGroups(
  hi: Uint32Array,
  lo: Uint32Array,
  uf: UnionFind,
  stats: NearDuplicateStats,
): NearDuplicateStats {
  const first = new StringIndex(); // past one Map's 2^24 entries
  for (let i = 0; i < hi.length; i++) {
    const k = `${hi[i]}:${lo[i]}`;
    const seen = first.get(k);
    if (seen === undefined) {
      first.set(k, i);
      continue;
    }
    stats.candidates++;
    stats.pairs++;
    uf.union(seen, i);
  }
  return stats;
}

/** Union-find with path halving, over 0..n-1. */
export class UnionFind {
  readonly parent: Int32Array;
  constructor(n: number) {
    this.parent = new Int32Array(n);
    for (let i = 0; i < n; i++) this.parent[i] = i;
  }
  find(x: number): number {
    const p = this.parent;
    while (p[x] !== x) {
      const gp = p[p[x] as number] as number;
      p[x] = gp;
      x = gp;
    }
    return x;
  }
  /** Unions by smaller root id so roots (and so numbering) do not depend on order. */
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra === rb) return;
    if (ra < rb) this.parent[rb] = ra;
    else this.parent[ra] = rb;
  }
}

export interface TemplateGroups {
  /** template group per fingerprint, numbered 0.. by first member; malformed ones get their own */
  group: Int32Array;
  groupCount: number;
  malformed: number;
  stats: NearDuplicateStats;
}

/** Near-duplicate template groups of a list of fingerprints (transitive closure of ≤ maxHamming). */
export function templateGroups(
  fingerprints: readonly string[],
  maxHamming: number,
): TemplateGroups {
  return groupFingerprints(fingerprints, maxHamming).groups;
}

/** The valid fingerprints, parsed: halves hi/lo[x] of fingerprint validAt[x]. */
interface Parsed {
  hi: Uint32Array;
  lo: Uint32Array;
  validAt: Int32Array;
}

/** Parses every well-formed fingerprint of `fingerprints` (malformed ones are skipped). */
function parseAll(fingerprints: readonly string[]): Parsed {
  const n = fingerprints.length;
  const validAt = new Int32Array(n);
  const hi = new Uint32Array(n);
  const lo = new Uint32Array(n);
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (!parseInto(fingerprints[i] as string, hi, lo, count)) continue;
    validAt[count++] = i;
  }
  return {
    hi: hi.subarray(0, count),
    lo: lo.subarray(0, count),
    validAt: validAt.subarray(0, count),
  };
}

function groupFingerprints(
  fingerprints: readonly string[],
  maxHamming: number,
): { groups: TemplateGroups; parsed: Parsed } {
  const n = fingerprints.length;
  const parsed = parseAll(fingerprints);
  const { hi, lo, validAt: valid } = parsed;
  const count = valid.length;
  // Union-find over the valid fingerprints only; malformed ones stay alone.
  const uf = new UnionFind(count);
  const stats = groupNearDuplicates(hi, lo, maxHamming, uf);
  const rootOf = new Int32Array(n);
  for (let i = 0; i < n; i++) rootOf[i] = i;
  valid.forEach((i, x) => (rootOf[i] = valid[uf.find(x)] as number));
  const group = new Int32Array(n);
  const label = new Int32Array(n).fill(-1);
  let groupCount = 0;
  for (let i = 0; i < n; i++) {
    const root = rootOf[i] as number;
    if (label[root] === -1) label[root] = groupCount++;
    group[i] = label[root] as number;
  }
  return { groups: { group, groupCount, malformed: n - valid.length, stats }, parsed };
}

function bands(all: Uint32Array[], band: number | undefined): Uint32Array {
  return all[band as number] as Uint32Array;
}

/**
 * Which groups an allow-list of fingerprints covers: a group is allowed when one of its
 * fingerprints is within maxHamming of a listed one (or, malformed, equals one as a
 * string, case aside). The listed fingerprints are not grouped with the run's: they
 * flag groups, they never join two (see promptTemplates). Near pairs are found by the
 * same LSH keys as grouping (indexKeys; by pigeonhole a near pair agrees on one):
 * key by key, the listed fingerprints are indexed by their key value (a map, with a
 * bit set of hashed values in front), each run fingerprint tests its value's bit and,
 * on a hit, unless its group is allowed already, computes its distance to the listed
 * fingerprints with that value. Per key, O(run + listed) work plus hits: chance ones on
 * unrelated fingerprints, but run × listed when many of both share a band value while
 * more than maxHamming apart (SIGNALS.md, allow-list cost). A set function of the fingerprints, so it does not depend on their order.
 */
function allowedGroups(
  fingerprints: readonly string[],
  parsed: Parsed,
  groups: TemplateGroups,
  listed: readonly string[],
  maxHamming: number,
): { allowed: Uint8Array; candidates: number } {
  const allowed = new Uint8Array(groups.groupCount);
  let candidates = 0;
  if (listed.length === 0) return { allowed, candidates };
  const { group } = groups;
  // Malformed fingerprints (each its own group): by the string, lower-cased as the LSH
  // reads hex.
  const listedText = new Set(listed.map((v) => v.toLowerCase()));
  const isValid = new Uint8Array(fingerprints.length);
  for (const i of parsed.validAt) isValid[i] = 1;
  fingerprints.forEach((fp, i) => {
    if (!isValid[i] && listedText.has(fp.toLowerCase())) allowed[group[i] as number] = 1;
  });
  const list = parseAll(listed);
  const m = list.validAt.length;
  if (m === 0) return { allowed, candidates };
  // At distance 0 the high half is key enough (the distance check does the rest).
  const { widths, keys } =
    maxHamming === 0 ? { widths: [32, 32], keys: [[0]] } : indexKeys(maxHamming);
  const runBands = bandsOf(parsed.hi, parsed.lo, widths);
  const listBands = bandsOf(list.hi, list.lo, widths);
  // Per key, the listed fingerprints by key value, and a bit set of hashed key values in
  // front of it: most run fingerprints share no key with any listed one, and a bit test
  // is cheaper than a map lookup.
  const filterBits = Math.min(22, Math.max(10, Math.ceil(Math.log2(m * 64))));
  const filterShift = 32 - filterBits;
  const bits = new Uint32Array(2 ** (filterBits - 5));
  const { hi, lo, validAt } = parsed;
  const n = validAt.length;
  // Key by key: a template allowed at one key is skipped at the next (the result is the
  // same in any order).
  for (const key of keys) {
    const high = bands(runBands, key[0]);
    const low = key.length > 1 ? bands(runBands, key[1]) : undefined;
    const listHigh = bands(listBands, key[0]);
    const listLow = key.length > 1 ? bands(listBands, key[1]) : undefined;
    const scale = key.length > 1 ? 2 ** (widths[key[1] as number] as number) : 1;
    const map = new Map<number, number[]>();
    bits.fill(0);
    for (let a = 0; a < m; a++) {
      const v = (listHigh[a] as number) * scale + (listLow ? (listLow[a] as number) : 0);
      const at = map.get(v);
      if (at) at.push(a);
      else map.set(v, [a]);
      const f = Math.imul(v >>> 0, 0x9e3779b1) >>> filterShift;
      bits[f >>> 5] = ((bits[f >>> 5] as number) | (1 << (f & 31))) >>> 0;
    }
    for (let x = 0; x < n; x++) {
      const v = (high[x] as number) * scale + (low ? (low[x] as number) : 0);
      const f = Math.imul(v >>> 0, 0x9e3779b1) >>> filterShift;
      if (((bits[f >>> 5] as number) & (1 << (f & 31))) === 0) continue;
      const g = group[validAt[x] as number] as number;
      if (allowed[g]) continue;
      const at = map.get(v);
      if (!at) continue;
      const h = hi[x] as number;
      const l = lo[x] as number;
      for (const a of at) {
        candidates++;
        const d =
          popcount32((h ^ (list.hi[a] as number)) >>> 0) +
          popcount32((l ^ (list.lo[a] as number)) >>> 0);
        if (d <= maxHamming) {
          allowed[g] = 1;
          break;
        }
      }
    }
  }
  return { allowed, candidates };
}

/** Near-duplicate template per identifier: computed once per run, read by build and score. */
export interface PromptTemplates {
  /** template per identifier (0..count-1), -1 for identifiers that are not prompts */
  ofIdentifier: Int32Array;
  count: number;
  /**
   * per template, 1 when the allow-list covers it: one of its fingerprints is within
   * maxHamming of an allow-listed prompt fingerprint (or, malformed, is one)
   */
  allowed: Uint8Array;
  /** listed fingerprints whose distance to a run fingerprint was computed to find `allowed` */
  allowCandidates: number;
  /** the Hamming distance the templates were grouped at */
  maxHamming: number;
  /** the allow-list's prompt fingerprints `allowed` was found from (checkTemplates) */
  allowlistKey: string;
  malformed: number;
  stats: NearDuplicateStats;
  ms: number;
}

/**
 * Groups the prompt identifiers' fingerprints into templates (templateGroups) and marks
 * the templates the allow-list's prompt fingerprints cover (`allowed`; the allow-list's
 * other kinds are ignored here). A listed fingerprint need not occur in the run: a
 * verdict lists one representative fingerprint, and later runs see its variants. The
 * listed fingerprints take no part in the grouping: one within maxHamming of two
 * templates allows both, but does not merge them, so the templates (their number,
 * membership and numbering) are the same with or without the allow-list.
 */
export function promptTemplates(
  identifiers: IdentifierTable,
  maxHamming: number,
  allowlist: readonly Identifier[],
): PromptTemplates {
  const started = performance.now();
  const at: number[] = [];
  const values: string[] = [];
  for (let i = 0; i < identifiers.length; i++) {
    if (identifiers.kind(i) !== 'prompt') continue;
    at.push(i);
    values.push(identifiers.value(i));
  }
  const { groups, parsed } = groupFingerprints(values, maxHamming);
  const listed = listedPrompts(allowlist);
  const { allowed, candidates } = allowedGroups(values, parsed, groups, listed, maxHamming);
  const ofIdentifier = new Int32Array(identifiers.length).fill(-1);
  at.forEach((i, p) => (ofIdentifier[i] = groups.group[p] as number));
  return {
    ofIdentifier,
    count: groups.groupCount,
    allowed,
    allowCandidates: candidates,
    maxHamming,
    allowlistKey: allowlistKeyOf(allowlist),
    malformed: groups.malformed,
    stats: groups.stats,
    ms: Math.round(performance.now() - started),
  };
}

/** Throws unless `templates` were grouped at the distance a stage is configured for. */
export function checkTemplates(
  templates: PromptTemplates,
  maxHamming: number,
  allowlist: readonly Identifier[],
): void {
  if (templates.maxHamming !== maxHamming) {
    throw new RangeError(
      `prompt templates grouped at Hamming ${templates.maxHamming}, stage configured for ${maxHamming}`,
    );
  }
  // Prompt allow-listing is read from the templates alone: grouped against another
  // list, they would silently allow (or not) other prompts than the input's.
  if (templates.allowlistKey !== allowlistKeyOf(allowlist)) {
    throw new RangeError("prompt templates grouped against another allow-list than the input's");
  }
}

/** The allow-list's prompt fingerprints, as listed. */
function listedPrompts(allowlist: readonly Identifier[]): string[] {
  return allowlist.filter((id) => id.kind === 'prompt').map((id) => id.value);
}

/** Which allow-list a PromptTemplates was grouped against (order aside). */
function allowlistKeyOf(allowlist: readonly Identifier[]): string {
  return listedPrompts(allowlist).sort().join(',');
}
