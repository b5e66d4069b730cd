/**
 * Co-activity: accounts that come from the same networks (/24 or /48 subnets) AND are
 * active in mostly the same hours. Co-use (co-use.ts) links a cell by its templates; a
 * cell that paraphrases every template apart and pays and signs up with cards and
 * devices of its own shares no template, card or device, but its members still work in
 * the same synchronised waves through the same rotating proxies. A proxy's ordinary
 * customers and a carrier's or a campus's NAT users share those networks too, and are
 * active in hours of their own (SIGNALS.md, "Co-activity").
 *
 * Who takes part: accounts with at least coUseMinSubnets co-use subnets (co-use.ts,
 * heavyValues: ≥ coUseMinEvents requests and ≥ coUseMinSubnetShare of the account's
 * traffic, a bottom-k sample by value hash) and at least coActivityMinHours active hours
 * (epoch hours with a request). A pair is co-active when the two share at least
 * coUseMinSubnets of those subnets and the Jaccard index of their active hours is at
 * least coActivityMinJaccard, both counted exactly.
 *
 * A cell's light members join few of its waves (hours Jaccard ~0.1), but it signs up in
 * one batch over its proxies: a pair on at least coSignupMinSubnets of the sampled
 * subnets whose sign-ups lie within coSignupWindowHours is co-active too (0 turns that
 * off; SIGNALS.md, "Sign-up batches").
 *
 * Candidates come from MinHash banding, never from all pairs: per account
 * coActivityBands × 2 min-hashes of its active hours, each band of two a key; accounts
 * sharing a key and a subnet of their prefixes (bandPairs) are candidates (two sets of
 * Jaccard J share a band with probability 1 − (1 − J²)^bands: 0.53 at J = 0.3 with 8
 * bands, 0.08 at 0.1). A key and subnet shared by more than maxWhole accounts gives a
 * star through one of them instead of all its pairs. Sign-ups get two more bands: cells
 * of two windows on two grids a window apart, so two sign-ups within a window share a
 * cell of one grid, and meet there under a shared prefix subnet as above.
 * Candidates are kept in a typed array (8 bytes each), sorted, and each checked once.
 * Pairs other evidence proposes are checked too (`check`, in build), so the rule does not
 * depend on the banding there.
 */
import { fmix32 } from './rng';
import { commonSorted } from './signals/numbers';
import type { HourSeries } from './types';

export interface CoActivityOptions {
  coUseMinSubnets: number;
  /** 0 (or a weight of 0) turns co-activity off: nobody takes part */
  coActivityBands: number;
  coActivityWeight: number;
  coActivityMinHours: number;
  coActivityMinJaccard: number;
  coSignupWindowHours: number;
  coSignupMinSubnets: number;
  seed: number;
}

/** The accounts taking part, each with its active hours, and the pairs found. */
export interface CoActivity {
  /** Per account (CSR), its active epoch hours ascending; empty if it takes no part. */
  hours: { start: Int32Array; value: Int32Array };
  /** how many accounts take part */
  accounts: number;
  /** Co-active pairs (a < b), ascending by (a, b). */
  a: Int32Array;
  b: Int32Array;
  /** candidate pairs the banding gave (before the exact check) */
  candidates: number;
}

/**
 * `subnets` is co-use's per-account subnet sample (ascending value ids per account);
 * `hoursOf` gives an account's activity (read once per account with enough subnets).
 * Returns the co-active pairs, and `check`, the same rule for any other pair.
 */
export function coActivity(
  n: number,
  subnets: { start: Int32Array; value: Int32Array },
  hoursOf: (account: number) => HourSeries,
  /** an account's sign-up time (epoch ms), or null when unknown */
  signupOf: (account: number) => number | null,
  opts: CoActivityOptions,
  maxWhole: number,
  /** takers up to this many sort packed in a Float64 (tests lower it to reach the other sort) */
  packLimit = 2 ** 21,
): CoActivity & { check: (a: number, b: number) => number } {
  const { hours, takers } = activeHours(n, subnets, hoursOf, opts);
  const hStart = hours.start;
  const hValue = hours.value;
  const windowMs = opts.coSignupWindowHours * 3_600_000;
  // sign-up per taker (NaN unknown), only when the sign-up rule is on
  const signup = new Float64Array(windowMs > 0 ? n : 0).fill(NaN);
  if (windowMs > 0)
    for (const a of takers) {
      const t = signupOf(a);
      if (t !== null && Number.isFinite(t)) signup[a] = t;
    }
  /** > 0 when a pair passes: its hours' Jaccard index, or 1 by its sign-up batch; else 0. */
  const check = (a: number, b: number): number => {
    const ia = hStart[a] as number;
    const ib = hStart[b] as number;
    const iaEnd = hStart[a + 1] as number;
    const ibEnd = hStart[b + 1] as number;
    if (a === b || ia === iaEnd || ib === ibEnd) return 0;
    const s = subnets.start;
    const v = subnets.value;
    const shared = commonSorted(
      v,
      s[a] as number,
      s[a + 1] as number,
      v,
      s[b] as number,
      s[b + 1] as number,
    );
    if (shared < opts.coUseMinSubnets) return 0;
    const common = commonSorted(hValue, ia, iaEnd, hValue, ib, ibEnd);
    const j = common / (iaEnd - ia + (ibEnd - ib) - common);
    if (j >= opts.coActivityMinJaccard) return j;
    // NaN (a sign-up unknown) fails the comparison
    return windowMs > 0 &&
      shared >= opts.coSignupMinSubnets &&
      Math.abs((signup[a] as number) - (signup[b] as number)) <= windowMs
      ? 1
      : 0;
  };
  // In a function of its own, so that `check` (kept by build to its end) does not keep
  // the banding's arrays alive.
  const { candidates, a, b } = bandPairs(
    n,
    hours,
    signup,
    windowMs,
    subnets,
    takers,
    opts,
    maxWhole,
    packLimit,
    check,
  );
  return { hours, accounts: takers.length, a, b, candidates, check };
}

/**
 * Per account (CSR), its distinct active hours ascending, empty if it takes no part; and
 * the accounts taking part, ascending.
 */
function activeHours(
  n: number,
  subnets: { start: Int32Array; value: Int32Array },
  hoursOf: (account: number) => HourSeries,
  opts: CoActivityOptions,
): { hours: { start: Int32Array; value: Int32Array }; takers: number[] } {
  const on = opts.coActivityBands > 0 && opts.coActivityWeight > 0;
  const start = new Int32Array(n + 1);
  const lists: Int32Array[] = [];
  const takers: number[] = [];
  for (let a = 0; a < n && on; a++) {
    const s = (subnets.start[a + 1] as number) - (subnets.start[a] as number);
    if (s < opts.coUseMinSubnets) continue;
    const series = hoursOf(a);
    const active: number[] = [];
    for (let i = 0; i < series.keys.length; i++) {
      const h = series.keys[i] as number;
      if ((series.counts[i] as number) > 0 && Number.isInteger(h)) active.push(h);
    }
    if (active.length < Math.max(1, opts.coActivityMinHours)) continue;
    const sorted = Int32Array.from(active).sort();
    let d = 0; // distinct, in case a series repeats a key
    for (let i = 0; i < sorted.length; i++)
      if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[d++] = sorted[i] as number;
    if (d < Math.max(1, opts.coActivityMinHours)) continue;
    takers.push(a);
    lists.push(sorted.subarray(0, d));
    start[a + 1] = d;
  }
  for (let a = 0; a < n; a++) start[a + 1] = (start[a + 1] as number) + (start[a] as number);
  const value = new Int32Array(start[n] as number);
  takers.forEach((a, i) => value.set(lists[i] as Int32Array, start[a] as number));
  return { hours: { start, value }, takers };
}

/**
 * The candidate pairs MinHash banding gives, checked. Per taking-part account, each band
 * is a 32-bit key of two min-hashes of its hours; accounts are grouped by key band by
 * band (a key of one band never meets another band's), and within a key by each subnet
 * of their prefix: the first (subnets − coUseMinSubnets + 1) of their ascending subnet
 * ids. Two accounts sharing coUseMinSubnets subnets share a prefix subnet (the smallest
 * they share is in both prefixes), so they meet wherever their band keys do; accounts
 * with no subnet in common never meet (on the key alone, any two with alike hours did:
 * 197 candidates an account, none co-active, among 80,000 on subnets of their own;
 * review, 12-07). Unrelated accounts share a key by chance with probability 2⁻³² a band.
 */
function bandPairs(
  n: number,
  hours: { start: Int32Array; value: Int32Array },
  /** sign-up per account (NaN unknown); read only when windowMs > 0 */
  signup: Float64Array,
  windowMs: number,
  subnets: { start: Int32Array; value: Int32Array },
  takers: number[],
  opts: CoActivityOptions,
  maxWhole: number,
  packLimit: number,
  check: (a: number, b: number) => number,
): { candidates: number; a: Int32Array; b: Int32Array } {
  const hourBands = opts.coActivityBands;
  // Two more bands for sign-ups: cells of 2·window on two grids offset by one window, so
  // two sign-ups within a window share a cell of one grid.
  const bands = hourBands + (windowMs > 0 ? 2 : 0);
  const seedMix = fmix32((opts.seed ^ 0x6a09e667) >>> 0);
  const T = takers.length;
  // keys[band * T + t]: taker t's key in that band
  const keys = new Uint32Array(T * bands);
  const mins = new Uint32Array(bands * 2);
  for (let t = 0; t < T; t++) {
    const a = takers[t] as number;
    mins.fill(0xffffffff);
    for (let i = hours.start[a] as number; i < (hours.start[a + 1] as number); i++) {
      const base = fmix32(((hours.value[i] as number) ^ seedMix) >>> 0);
      for (let f = 0; f < bands * 2; f++) {
        const h = fmix32((base ^ Math.imul(f + 1, 0x9e3779b9)) >>> 0);
        if (h < (mins[f] as number)) mins[f] = h;
      }
    }
    for (let band = 0; band < hourBands; band++)
      keys[band * T + t] = fmix32(
        ((mins[2 * band] as number) ^ fmix32(mins[2 * band + 1] as number)) >>> 0,
      );
    if (windowMs <= 0) continue;
    const at = signup[a] as number;
    for (let g = 0; g < 2; g++) {
      // an unknown sign-up gets a key of its own account: it meets nobody there
      const cell = Number.isNaN(at) ? -1 - a : Math.floor((at + g * windowMs) / (2 * windowMs));
      keys[(hourBands + g) * T + t] = fmix32(((cell | 0) ^ fmix32((seedMix + g + 1) >>> 0)) >>> 0);
    }
  }
  // An account's prefix: subnets.value[start[a] .. prefixEnd(a)), at most
  // coUseMaxPerKind − coUseMinSubnets + 1 of them.
  const prefixEnd = (a: number): number =>
    (subnets.start[a + 1] as number) - opts.coUseMinSubnets + 1;
  /** The smallest subnet in both accounts' prefixes, or −1. */
  const firstShared = (a: number, b: number): number => {
    let i = subnets.start[a] as number;
    let j = subnets.start[b] as number;
    const iEnd = prefixEnd(a);
    const jEnd = prefixEnd(b);
    while (i < iEnd && j < jEnd) {
      const x = subnets.value[i] as number;
      const y = subnets.value[j] as number;
      if (x === y) return x;
      if (x < y) i++;
      else j++;
    }
    return -1;
  };

  // Candidates within each group, as a·n + b; a pair in several bands comes several
  // times, so they are sorted and each checked once (a typed array, not a Set: 8 bytes a
  // candidate).
  let pending = new Float64Array(1024);
  let count = 0;
  const visit = (a: number, b: number): void => {
    if (count === pending.length) {
      const grown = new Float64Array(pending.length * 2);
      grown.set(pending);
      pending = grown;
    }
    pending[count++] = a * n + b;
  };
  /** The accounts (ascending) sharing `key` in a band, paired within each prefix subnet. */
  const bySubnet = (members: Int32Array, key: number): void => {
    const sub: number[] = [];
    const acc: number[] = [];
    for (const a of members)
      for (let i = subnets.start[a] as number; i < prefixEnd(a); i++) {
        sub.push(subnets.value[i] as number);
        acc.push(a);
      }
    const idx = Int32Array.from(sub.keys());
    idx.sort(
      (x, y) => (sub[x] as number) - (sub[y] as number) || (acc[x] as number) - (acc[y] as number),
    );
    for (let i = 0; i < idx.length;) {
      const s = sub[idx[i] as number] as number;
      let j = i + 1;
      while (j < idx.length && sub[idx[j] as number] === s) j++;
      const d = j - i;
      if (d >= 2 && d <= maxWhole) {
        // each pair once a band: in the group of the smallest prefix subnet it shares
        for (let x = i; x < j; x++)
          for (let y = x + 1; y < j; y++) {
            const a = acc[idx[x] as number] as number;
            const b = acc[idx[y] as number] as number;
            if (firstShared(a, b) === s) visit(a, b);
          }
      } else if (d > maxWhole) {
        // Too big for all its pairs: a star through one member (as build does for hubs).
        // Louvain keeps a star whole; pairs within random buckets left a cell of 500 on
        // identical hours in four to eight communities. The centre is the member with
        // the least hash of account and key, so the stars of one key under several
        // subnets share their centre where they can, and coincide.
        let center = acc[idx[i] as number] as number;
        let least = 0xffffffff + 1;
        for (let x = i; x < j; x++) {
          const a = acc[idx[x] as number] as number;
          const h = fmix32((a ^ key ^ seedMix) >>> 0);
          if (h < least) [least, center] = [h, a];
        }
        for (let x = i; x < j; x++) {
          const a = acc[idx[x] as number] as number;
          if (a < center) visit(a, center);
          else if (a > center) visit(center, a);
        }
      }
      i = j;
    }
  };
  // One band at a time, takers in (key, t) order: packed as key·T + t in a Float64 sort
  // while that stays below 2^53 (T ≤ 2^21), else an index sort by comparison (slower).
  const packed = T <= Math.min(packLimit, 2 ** 21);
  const order = new Float64Array(packed ? T : 0);
  const byKey = new Int32Array(packed ? 0 : T);
  for (let band = 0; band < bands; band++) {
    const k = keys.subarray(band * T, band * T + T);
    if (packed) {
      for (let t = 0; t < T; t++) order[t] = (k[t] as number) * T + t;
      order.sort();
    } else {
      for (let t = 0; t < T; t++) byKey[t] = t;
      byKey.sort((x, y) => (k[x] as number) - (k[y] as number) || x - y);
    }
    const takerAt = (i: number): number =>
      packed ? (order[i] as number) % T : (byKey[i] as number);
    for (let i = 0; i < T;) {
      const key = k[takerAt(i)] as number;
      let j = i + 1;
      while (j < T && k[takerAt(j)] === key) j++;
      if (j - i >= 2) {
        // takers ascending and t ascending within a key ⇒ accounts ascending
        const members = new Int32Array(j - i);
        for (let x = 0; x < j - i; x++) members[x] = takers[takerAt(i + x)] as number;
        bySubnet(members, key);
      }
      i = j;
    }
  }
  const sorted = pending.subarray(0, count).sort();
  const found: number[] = [];
  let candidates = 0;
  for (let x = 0; x < count; x++) {
    const k = sorted[x] as number;
    if (x > 0 && sorted[x - 1] === k) continue;
    candidates++;
    const a = Math.floor(k / n);
    if (check(a, k - a * n) > 0) found.push(k);
  }
  const a = new Int32Array(found.length);
  const b = new Int32Array(found.length);
  for (let x = 0; x < found.length; x++) {
    const k = found[x] as number;
    a[x] = Math.floor(k / n);
    b[x] = k - (a[x] as number) * n;
  }
  return { candidates, a, b };
}
