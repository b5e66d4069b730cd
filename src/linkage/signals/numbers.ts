/** Small numeric helpers shared by the score stage's signals. */

/**
 * clamp((x - lo) / (hi - lo), 0, 1); works with hi < lo for a falling ramp. Always in
 * [0, 1]: NaN (a NaN signal, or lo = hi at x = lo) counts as 0, never reaching risk.
 */
export function ramp(x: number, lo: number, hi: number): number {
  if (Number.isNaN(x)) return 0;
  if (!Number.isFinite(x)) return x > 0 === hi > lo ? 1 : 0;
  const t = (x - lo) / (hi - lo);
  return t >= 1 ? 1 : t > 0 ? t : 0;
}

/** ramp on a log scale (for counts and ratios; lo and hi > 0, settings.ts checks). */
export function rampLog(x: number, lo: number, hi: number): number {
  if (!(x > 0)) return 0;
  return ramp(Math.log(x), Math.log(lo), Math.log(hi));
}

export function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

export function round(x: number, digits = 4): number {
  const f = 10 ** digits;
  const y = Math.round(x * f) / f;
  // x · f overflows past ~1e304; such x has no decimals to round
  return Number.isFinite(y) ? y : x;
}

/** Up to k distinct elements of `items`, chosen with `rng` (all of them, in order, if k ≥ length). */
export function sample<T>(items: readonly T[], k: number, rng: () => number): readonly T[] {
  if (items.length <= k) return items;
  // Floyd's algorithm: k distinct indexes in O(k), kept in ascending order
  const n = items.length;
  const chosen = new Set<number>();
  for (let j = n - k; j < n; j++) {
    const t = Math.floor(rng() * (j + 1));
    chosen.add(chosen.has(t) ? j : t);
  }
  return Array.from(chosen)
    .sort((a, b) => a - b)
    .map((i) => items[i] as T);
}

/** Median of an ascending typed array. */
export function medianSorted(sorted: Float64Array): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const mid = n >> 1;
  // halves first, so two large values cannot overflow; halving is exact, the median the same
  return n % 2 ? sorted[mid]! : sorted[mid - 1]! / 2 + sorted[mid]! / 2;
}

/** First index in [from, to) of ascending `list` whose value is ≥ x (binary search). */
export function lowerBound(list: ArrayLike<number>, from: number, to: number, x: number): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((list[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Herfindahl index (Σ share²) and the largest share of integer counts. Summed in
 * ascending order of count: float addition depends on order, and the counts arrive in
 * whatever order Neo4j gave the relationships, so the same data must not give another sum.
 */
export function concentration(counts: Iterable<number>): {
  hhi: number;
  top: number;
  total: number;
} {
  const sorted = Float64Array.from(counts).sort();
  let total = 0;
  for (const c of sorted) total += c;
  if (total <= 0) return { hhi: 0, top: 0, total };
  let hhi = 0;
  for (const c of sorted) hhi += (c / total) * (c / total);
  return { hhi, top: (sorted[sorted.length - 1] as number) / total, total };
}

/** How many values two ascending runs, a[aFrom, aTo) and b[bFrom, bTo), have in common. */
export function commonSorted(
  a: ArrayLike<number>,
  aFrom: number,
  aTo: number,
  b: ArrayLike<number>,
  bFrom: number,
  bTo: number,
): number {
  let i = aFrom;
  let j = bFrom;
  let common = 0;
  while (i < aTo && j < bTo) {
    const x = a[i] as number;
    const y = b[j] as number;
    if (x === y) {
      common++;
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  return common;
}
