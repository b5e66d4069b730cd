/**
 * Groups near-duplicate prompt fingerprints into templates, once per run, for scoring.
 *
 * Why: prompts built from one template with variable parts fingerprint to nearby
 * 64-bit SimHashes, not identical ones; counting traffic per raw fingerprint would
 * understate how concentrated a cluster's traffic is, and would hide that a
 * "shared" prompt is really a popular framework prompt sent by thousands of
 * outsiders. Two fingerprints within `maxHamming` bits are the same template
 * (transitively, union-find). Candidates come from LSH banding — maxHamming + 1
 * bands, so a pair within the distance agrees on at least one band — bucketed by a
 * counting sort on 16-bit band keys; inside a bucket each entry is compared with at
 * most `maxBucketCompare` earlier entries (all pairs in ordinary buckets, bounded
 * work in a hub bucket, where the entries are mostly one template anyway).
 * Never all pairs; work is O(fingerprints × bands × maxBucketCompare).
 */
import { popcount32 } from '../../ingest/simhash';

export interface TemplateGrouping {
  /** template id per input fingerprint (0..templateCount-1, in order of first appearance) */
  template: Int32Array;
  templateCount: number;
}

/** Value of one hex digit's char code, or -1. */
function hexDigit(code: number): number {
  if (code >= 48 && code <= 57) return code - 48; // 0-9
  if (code >= 97 && code <= 102) return code - 87; // a-f
  if (code >= 65 && code <= 70) return code - 55; // A-F
  return -1;
}

/** Parses 16-hex fingerprints into high and low 32-bit halves (invalid ones become 0). */
export function parseFingerprints(values: readonly string[]): { hi: Uint32Array; lo: Uint32Array } {
  const hi = new Uint32Array(values.length);
  const lo = new Uint32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v.length !== 16) continue;
    let h = 0;
    let l = 0;
    let ok = true;
    for (let c = 0; c < 16; c++) {
      const d = hexDigit(v.charCodeAt(c));
      if (d < 0) {
        ok = false;
        break;
      }
      if (c < 8) h = h * 16 + d;
      else l = l * 16 + d;
    }
    if (ok) {
      hi[i] = h;
      lo[i] = l;
    }
  }
  return { hi, lo };
}

/** Bits [from, to) of the 64-bit value hi:lo (bit 0 = most significant), as a number. */
function bits(hi: number, lo: number, from: number, to: number): number {
  let v = 0;
  for (let b = from; b < to; b++) {
    const bit = b < 32 ? (hi >>> (31 - b)) & 1 : (lo >>> (63 - b)) & 1;
    v = v * 2 + bit;
  }
  return v;
}

/** Groups fingerprints (as parsed halves) into near-duplicate templates. */
export function groupTemplates(
  hi: Uint32Array,
  lo: Uint32Array,
  maxHamming: number,
  maxBucketCompare: number,
): TemplateGrouping {
  const n = hi.length;
  const parent = new Int32Array(n);
  for (let i = 0; i < n; i++) parent[i] = i;
  const find = (x: number): number => {
    let r = x;
    while (parent[r]! !== r) r = parent[r]!;
    while (parent[x]! !== r) {
      const next = parent[x]!;
      parent[x] = r;
      x = next;
    }
    return r;
  };

  if (maxHamming >= 0 && n > 1) {
    const bands = Math.min(64, maxHamming + 1);
    const BUCKETS = 1 << 16;
    const key = new Int32Array(n);
    const start = new Int32Array(BUCKETS + 1);
    const order = new Int32Array(n);
    for (let band = 0; band < bands; band++) {
      const from = Math.floor((band * 64) / bands);
      const to = Math.floor(((band + 1) * 64) / bands);
      const fast16 = to - from === 16 && from % 16 === 0;
      start.fill(0);
      for (let i = 0; i < n; i++) {
        let k: number;
        if (fast16) {
          const word = from < 32 ? hi[i]! : lo[i]!;
          k = from % 32 === 0 ? word >>> 16 : word & 0xffff;
        } else {
          const v = bits(hi[i]!, lo[i]!, from, to);
          k = (v ^ Math.floor(v / 65536) ^ Math.floor(v / 4294967296)) & 0xffff;
        }
        key[i] = k;
        start[k + 1] = start[k + 1]! + 1;
      }
      for (let k = 0; k < BUCKETS; k++) start[k + 1] = start[k + 1]! + start[k]!;
      const fill = start.slice(0, BUCKETS);
      for (let i = 0; i < n; i++) {
        const k = key[i]!;
        order[fill[k]!] = i;
        fill[k] = fill[k]! + 1;
      }
      for (let k = 0; k < BUCKETS; k++) {
        const s = start[k]!;
        const e = start[k + 1]!;
        for (let p = s + 1; p < e; p++) {
          const a = order[p]!;
          const ha = hi[a]!;
          const la = lo[a]!;
          for (let q = Math.max(s, p - maxBucketCompare); q < p; q++) {
            const b = order[q]!;
            if (popcount32((ha ^ hi[b]!) >>> 0) + popcount32((la ^ lo[b]!) >>> 0) > maxHamming) {
              continue;
            }
            const ra = find(a);
            const rb = find(b);
            if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
          }
        }
      }
    }
  }

  const template = new Int32Array(n);
  const idOfRoot = new Int32Array(n).fill(-1);
  let count = 0;
  for (let i = 0; i < n; i++) {
    const root = find(i);
    if (idOfRoot[root]! < 0) idOfRoot[root] = count++;
    template[i] = idOfRoot[root]!;
  }
  return { template, templateCount: count };
}
