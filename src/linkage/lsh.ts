/**
 * Near-duplicate prompt fingerprints by LSH banding, never by comparing all pairs.
 *
 * Fingerprints are 64-bit SimHashes (16 hex chars). Two are near-duplicates when
 * their Hamming distance is ≤ d. Split the 64 bits into d + 1 bands: by the
 * pigeonhole principle two fingerprints differing in at most d bits differ in at
 * most d bands, so at least one band is identical. Candidates are therefore the
 * pairs that share a band value (bucketed per band), and each candidate gets an
 * exact Hamming check. Near-duplicates are unioned (union-find) into template
 * groups, so accounts sending slightly different copies of one prompt share a
 * template.
 */
import { popcount32 } from '../ingest/simhash';
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
  if (hex.length !== 16) return null;
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < 16; i++) {
    const d = hexDigit(hex.charCodeAt(i));
    if (d < 0) return null;
    if (i < 8) hi = hi * 16 + d;
    else lo = lo * 16 + d;
  }
  return [hi, lo];
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

/** Band widths: 64 bits split as evenly as possible into `bands` parts. */
function bandWidths(bands: number): number[] {
  const base = Math.floor(64 / bands);
  const extra = 64 % bands;
  return Array.from({ length: bands }, (_, b) => base + (b < extra ? 1 : 0));
}

export interface NearDuplicateStats {
  /** candidate pairs checked exactly (pairs sharing a band, each counted once per band) */
  candidates: number;
  /** near-duplicate pairs reported (each once; with `skip`, those not skipped) */
  pairs: number;
}

/**
 * Calls `onPair(i, j)` (i < j) exactly once for every pair of fingerprints at
 * Hamming distance ≤ maxHamming. hi/lo are the fingerprints' 32-bit halves.
 * `skip(i, j)`, when given, drops a near pair without reporting it (grouping
 * skips pairs already in one group: a popular template's thousands of variants
 * would otherwise report millions of pairs).
 */
export function forEachNearDuplicatePair(
  hi: Uint32Array,
  lo: Uint32Array,
  maxHamming: number,
  onPair: (i: number, j: number) => void,
  skip?: (i: number, j: number) => boolean,
): NearDuplicateStats {
  const n = hi.length;
  const stats: NearDuplicateStats = { candidates: 0, pairs: 0 };
  if (!Number.isInteger(maxHamming) || maxHamming < 0 || maxHamming > 31) {
    throw new RangeError(`maxHamming must be an integer in [0, 31], got ${maxHamming}`);
  }
  if (maxHamming === 0) return exactDuplicates(hi, lo, onPair, stats);

  const widths = bandWidths(maxHamming + 1);
  const keys: Float64Array[] = [];
  let start = 0;
  for (const width of widths) {
    const k = new Float64Array(n);
    for (let i = 0; i < n; i++) k[i] = bandKey(hi[i] as number, lo[i] as number, start, width);
    keys.push(k);
    start += width;
  }

  // A pair equal in an earlier band was already reported there.
  const equalEarlier = (i: number, j: number, band: number): boolean => {
    for (let b = 0; b < band; b++) {
      const k = keys[b] as Float64Array;
      if (k[i] === k[j]) return true;
    }
    return false;
  };

  for (let band = 0; band < widths.length; band++) {
    const k = keys[band] as Float64Array;
    forEachBucket(k, widths[band] as number, (members, from, to) => {
      for (let x = from; x < to; x++) {
        const i = members[x] as number;
        for (let y = x + 1; y < to; y++) {
          const j = members[y] as number;
          stats.candidates++;
          // Cheapest test first: most candidates are chance collisions on 16 bits.
          const dist =
            popcount32(((hi[i] as number) ^ (hi[j] as number)) >>> 0) +
            popcount32(((lo[i] as number) ^ (lo[j] as number)) >>> 0);
          if (dist > maxHamming || equalEarlier(i, j, band) || (skip && skip(i, j))) continue;
          stats.pairs++;
          if (i < j) onPair(i, j);
          else onPair(j, i);
        }
      }
    });
  }
  return stats;
}

/**
 * Groups indexes by key and calls visit(members, from, to) for every bucket of ≥ 2.
 * Narrow bands use a counting sort over all 2^width keys; wider ones a Map.
 */
function forEachBucket(
  key: Float64Array,
  width: number,
  visit: (members: Int32Array, from: number, to: number) => void,
): void {
  const n = key.length;
  const members = new Int32Array(n);
  if (width <= 20) {
    const starts = new Int32Array((1 << width) + 1);
    for (let i = 0; i < n; i++) {
      const b = (key[i] as number) + 1;
      starts[b] = (starts[b] as number) + 1;
    }
    for (let b = 0; b < 1 << width; b++)
      starts[b + 1] = (starts[b + 1] as number) + (starts[b] as number);
    const fill = starts.slice(0, -1);
    for (let i = 0; i < n; i++) {
      const b = key[i] as number;
      const at = fill[b] as number;
      fill[b] = at + 1;
      members[at] = i;
    }
    for (let b = 0; b < 1 << width; b++) {
      const from = starts[b] as number;
      const to = starts[b + 1] as number;
      if (to - from >= 2) visit(members, from, to);
    }
    return;
  }
  // Wide bands: order indexes by key (ties by index) and visit runs of equal keys.
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((a, b) => (key[a] as number) - (key[b] as number) || a - b);
  for (let i = 0; i < n; i++) members[i] = order[i] as number;
  let from = 0;
  for (let i = 1; i <= n; i++) {
    if (i === n || key[members[i] as number] !== key[members[from] as number]) {
      if (i - from >= 2) visit(members, from, i);
      from = i;
    }
  }
}

function exactDuplicates(
  hi: Uint32Array,
  lo: Uint32Array,
  onPair: (i: number, j: number) => void,
  stats: NearDuplicateStats,
): NearDuplicateStats {
  const first = new Map<string, number[]>();
  for (let i = 0; i < hi.length; i++) {
    const k = `${hi[i]}:${lo[i]}`;
    const seen = first.get(k);
    if (seen) {
      for (const j of seen) {
        stats.candidates++;
        stats.pairs++;
        onPair(j, i);
      }
      seen.push(i);
    } else first.set(k, [i]);
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
  const n = fingerprints.length;
  const valid: number[] = [];
  const hiList: number[] = [];
  const loList: number[] = [];
  fingerprints.forEach((fp, i) => {
    const parsed = parseFingerprint(fp);
    if (!parsed) return;
    valid.push(i);
    hiList.push(parsed[0]);
    loList.push(parsed[1]);
  });
  // Union-find over the valid fingerprints only; malformed ones stay alone.
  const uf = new UnionFind(valid.length);
  const stats = forEachNearDuplicatePair(
    Uint32Array.from(hiList),
    Uint32Array.from(loList),
    maxHamming,
    (i, j) => uf.union(i, j),
    (i, j) => uf.find(i) === uf.find(j),
  );
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
  return { group, groupCount, malformed: n - valid.length, stats };
}

/** Near-duplicate template per identifier: computed once per run, read by build and score. */
export interface PromptTemplates {
  /** template per identifier (0..count-1), -1 for identifiers that are not prompts */
  ofIdentifier: Int32Array;
  count: number;
  /** the Hamming distance the templates were grouped at */
  maxHamming: number;
  malformed: number;
  stats: NearDuplicateStats;
  ms: number;
}

/** Groups the prompt identifiers' fingerprints into templates (templateGroups). */
export function promptTemplates(
  identifiers: readonly Identifier[],
  maxHamming: number,
): PromptTemplates {
  const started = performance.now();
  const at: number[] = [];
  const values: string[] = [];
  identifiers.forEach((id, i) => {
    if (id.kind !== 'prompt') return;
    at.push(i);
    values.push(id.value);
  });
  const groups = templateGroups(values, maxHamming);
  const ofIdentifier = new Int32Array(identifiers.length).fill(-1);
  at.forEach((i, p) => (ofIdentifier[i] = groups.group[p] as number));
  return {
    ofIdentifier,
    count: groups.groupCount,
    maxHamming,
    malformed: groups.malformed,
    stats: groups.stats,
    ms: Math.round(performance.now() - started),
  };
}

/** Throws unless `templates` were grouped at the distance a stage is configured for. */
export function checkTemplates(templates: PromptTemplates, maxHamming: number): void {
  if (templates.maxHamming !== maxHamming) {
    throw new RangeError(
      `prompt templates grouped at Hamming ${templates.maxHamming}, stage configured for ${maxHamming}`,
    );
  }
}
