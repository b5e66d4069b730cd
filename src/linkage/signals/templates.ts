/**
 * Groups near-duplicate prompt fingerprints into templates for scoring.
 *
 * Why: prompts built from one template with variable parts fingerprint to nearby
 * 64-bit SimHashes, not identical ones; counting traffic per raw fingerprint would
 * understate how concentrated a cluster's traffic is. Two fingerprints within
 * `maxHamming` bits are the same template (transitively). Candidates come from
 * LSH banding (16-bit bands: with ≤ 3 differing bits at least one of 4 bands is
 * equal), never from all pairs; each bucket compares a bounded number of entries.
 */
import { hammingHex } from '../../ingest/simhash';

export interface TemplateGrouping {
  /** template id per input fingerprint (0..templateCount-1, in order of first appearance) */
  template: Int32Array;
  templateCount: number;
}

/**
 * @param fingerprints 16-hex SimHashes (distinct values expected)
 * @param maxHamming near-duplicate distance (bands = maxHamming + 1, at most 16)
 * @param maxBucketCompare cap on comparisons per entry inside one band bucket
 */
export function groupTemplates(
  fingerprints: readonly string[],
  maxHamming: number,
  maxBucketCompare: number,
): TemplateGrouping {
  const n = fingerprints.length;
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
  const union = (a: number, b: number): void => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  };

  if (maxHamming >= 0 && n > 1) {
    const bands = Math.min(16, maxHamming + 1);
    const hexPerBand = 16 / bands;
    for (let band = 0; band < bands; band++) {
      const start = Math.floor(band * hexPerBand);
      const end = Math.floor((band + 1) * hexPerBand);
      const buckets = new Map<string, number[]>();
      for (let i = 0; i < n; i++) {
        const key = (fingerprints[i] as string).slice(start, end);
        const bucket = buckets.get(key);
        if (bucket) bucket.push(i);
        else buckets.set(key, [i]);
      }
      for (const bucket of buckets.values()) {
        for (let a = 1; a < bucket.length; a++) {
          const ia = bucket[a]!;
          const from = Math.max(0, a - maxBucketCompare);
          for (let b = from; b < a; b++) {
            const ib = bucket[b]!;
            if (find(ia) === find(ib)) continue;
            if (hammingHex(fingerprints[ia]!, fingerprints[ib]!) <= maxHamming) union(ia, ib);
          }
        }
      }
    }
  }

  const template = new Int32Array(n);
  const idOfRoot = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const root = find(i);
    let id = idOfRoot.get(root);
    if (id === undefined) {
      id = idOfRoot.size;
      idOfRoot.set(root, id);
    }
    template[i] = id;
  }
  return { template, templateCount: idOfRoot.size };
}
