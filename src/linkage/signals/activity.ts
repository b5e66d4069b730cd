/**
 * Time-based signal helpers for scoring: hour-of-day profiles, active-hour overlap,
 * sign-up bursts and spread, and how fast traffic moved to a newly released model.
 *
 * Why a module of its own: these are the only signals that walk per-account hour
 * series, so they are where the cost lives; every helper here is linear in the
 * series it is given and the caller decides how many accounts to feed it (sampling).
 * Hours are epoch hours (floor(ms / 3_600_000)), UTC.
 */
import { eventCount, type AccountFacts, type HourSeries } from '../types';
import { commonSorted, lowerBound } from './numbers';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
const LOG24 = Math.log(24);

/**
 * One pass over a series: adds its counts into a 24-slot hour-of-day histogram and its
 * weekend (Saturday/Sunday, UTC) traffic into `acc`; returns the total added. Every
 * helper here reads hour counts by `eventCount` (not a finite number > 0: 0).
 */
export function addHourOfDay(
  series: HourSeries,
  histogram: Float64Array,
  acc: { weekend: number; total: number } = { weekend: 0, total: 0 },
): number {
  let total = 0;
  let weekend = 0;
  const { keys, counts } = series;
  for (let i = 0; i < keys.length; i++) {
    const c = eventCount(counts[i]);
    if (c === 0) continue;
    const key = keys[i]!;
    const slot = ((key % 24) + 24) % 24;
    histogram[slot] = histogram[slot]! + c;
    total += c;
    // 1970-01-01 (day 0) was a Thursday: day d is a Saturday when (d + 4) % 7 === 6
    const dow = (((Math.floor(key / 24) + 4) % 7) + 7) % 7;
    if (dow === 0 || dow === 6) weekend += c;
  }
  acc.weekend += weekend;
  acc.total += total;
  return total;
}

/** Shannon entropy of a histogram, normalised to [0, 1] by log(24). 0 for an empty one. */
export function normalisedEntropy(histogram: Float64Array): number {
  let total = 0;
  for (let i = 0; i < histogram.length; i++) total += histogram[i]!;
  if (total <= 0) return 0;
  let h = 0;
  for (let i = 0; i < histogram.length; i++) {
    const v = histogram[i]!;
    if (v > 0) {
      const p = v / total;
      h -= p * Math.log(p);
    }
  }
  return h / LOG24;
}

/** Sums of every circular window of `width` slots of a 24-slot histogram (sliding). */
function windowExtremes(
  histogram: Float64Array,
  width: number,
): { min: number; max: number; total: number } {
  let total = 0;
  for (let i = 0; i < 24; i++) total += histogram[i]!;
  let sum = 0;
  for (let k = 0; k < width; k++) sum += histogram[k % 24]!;
  let min = sum;
  let max = sum;
  for (let start = 1; start < 24; start++) {
    sum += histogram[(start + width - 1) % 24]! - histogram[start - 1]!;
    if (sum < min) min = sum;
    if (sum > max) max = sum;
  }
  return { min, max, total };
}

/** Largest share of a 24-slot histogram inside any circular window of `width` hours. */
export function bestWindowShare(histogram: Float64Array, width: number): number {
  const { max, total } = windowExtremes(histogram, width);
  return total > 0 ? max / total : 0;
}

/** Smallest share of a 24-slot histogram inside any circular window of `width` hours. */
export function quietestWindowShare(histogram: Float64Array, width: number): number {
  const { min, total } = windowExtremes(histogram, width);
  return total > 0 ? Math.max(0, min) / total : 0;
}

/** The keys of a series whose count is > 0 (the series' own array when all are). */
export function activeKeys(series: HourSeries): readonly number[] {
  const { keys, counts } = series;
  for (let i = 0; i < keys.length; i++) {
    if (eventCount(counts[i]) === 0) return keys.filter((_, j) => eventCount(counts[j]) > 0);
  }
  return keys;
}

/** Jaccard similarity of two ascending key arrays (active-hour sets). */
export function jaccardSorted(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length === 0 && b.length === 0) return 0;
  const inter = commonSorted(a, 0, a.length, b, 0, b.length);
  return inter / (a.length + b.length - inter);
}

/** Largest number of sorted times inside any window of `windowMs` (two pointers). */
export function maxInWindow(sortedTimes: ArrayLike<number>, windowMs: number): number {
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < sortedTimes.length; hi++) {
    while (sortedTimes[hi]! - sortedTimes[lo]! >= windowMs) lo++;
    if (hi - lo + 1 > best) best = hi - lo + 1;
  }
  return best;
}

/**
 * How many sorted times lie inside some window of `windowMs` (anchored at a time)
 * that holds at least `minCount` times: members who joined in a batch. Two pointers
 * plus a difference array, O(n).
 */
export function inBurstWindows(
  sortedTimes: ArrayLike<number>,
  windowMs: number,
  minCount: number,
): number {
  const n = sortedTimes.length;
  if (n === 0 || n < minCount) return 0;
  const cover = new Int32Array(n + 1);
  let hi = 0;
  for (let lo = 0; lo < n; lo++) {
    if (hi < lo) hi = lo;
    while (hi + 1 < n && sortedTimes[hi + 1]! - sortedTimes[lo]! < windowMs) hi++;
    if (hi - lo + 1 >= minCount) {
      cover[lo] = cover[lo]! + 1;
      cover[hi + 1] = cover[hi + 1]! - 1;
    }
  }
  let inside = 0;
  let running = 0;
  for (let i = 0; i < n; i++) {
    running += cover[i]!;
    if (running > 0) inside++;
  }
  return inside;
}

/** Quantile of an ascending array by nearest rank. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return 0;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))));
  return sorted[idx]!;
}

/** Sum of a series' counts with keys in [fromHour, toHour). Binary search to the start. */
export function sumHours(series: HourSeries, fromHour: number, toHour: number): number {
  const { keys, counts } = series;
  let sum = 0;
  for (
    let i = lowerBound(keys, 0, keys.length, fromHour);
    i < keys.length && keys[i]! < toHour;
    i++
  ) {
    sum += eventCount(counts[i]);
  }
  return sum;
}

/** Adds a series' counts for hours fromHour + [0, into.length) into `into`, per hour. */
function addHours(series: HourSeries, fromHour: number, into: Float64Array): void {
  const { keys, counts } = series;
  const toHour = fromHour + into.length;
  for (
    let i = lowerBound(keys, 0, keys.length, fromHour);
    i < keys.length && keys[i]! < toHour;
    i++
  ) {
    const slot = keys[i]! - fromHour;
    into[slot] = into[slot]! + eventCount(counts[i]);
  }
}

/** First key ≥ fromHour and < toHour with a positive count, or -1. */
export function firstActiveHour(series: HourSeries, fromHour: number, toHour: number): number {
  const { keys, counts } = series;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (k >= toHour) break;
    if (k >= fromHour && eventCount(counts[i]) > 0) return k;
  }
  return -1;
}

export interface PivotResult {
  /** share of members' traffic on the new model from the anchor hour to release + window */
  share: number;
  /**
   * share of members active in the 2 × window after the release hour that used the new
   * model in the window from the release hour (adopters are a subset of the active)
   */
  adoption: number;
  /** members' requests in the measured window (how much evidence there is) */
  windowRequests: number;
}

/** Share of the members who adopt a model in its first window by whose first use it opens. */
export const PIVOT_ANCHOR_SHARE = 0.25;

/**
 * How fast members moved traffic to a model released at `releaseMs`: their share on it
 * from when a quarter of the members who used it within `windowHours` of the release
 * had first used it, to `windowHours` after the release. Not from the first use by any
 * member: one member's single request in the release hour would anchor the window there
 * and hide a group that switched late on release day. Never past the release's
 * `windowHours`: a window running on from a late anchor counted a switch a day later
 * as one within it. Not the best of several windows either: adoption rises, so the
 * latest window would lift every gradual adopter. A window with fewer than
 * `minRequests` requests is not measured (share 0). Traffic on the model of members who
 * used it since more than `windowHours` before the release is not counted as moved.
 */
export function modelPivot(
  members: readonly AccountFacts[],
  model: string,
  releaseMs: number,
  windowHours: number,
  minRequests = 0,
): PivotResult {
  const releaseHour = Math.floor(releaseMs / HOUR_MS);
  const adoptBy = releaseHour + windowHours;
  // per hour of the window from the release hour: members' requests, and on the model
  const all = new Float64Array(windowHours);
  const onModel = new Float64Array(windowHours);
  const firstUses: number[] = [];
  let active = 0;
  let adopted = 0;
  // Members on the model since more than a window before its release (early access) did
  // not move to it: their traffic on it in the window would read as a switch nobody made.
  // Their traffic counts in the window's total, as everyone's does.
  const before = releaseMs - windowHours * HOUR_MS;
  for (const account of members) {
    const hours = account.hours;
    addHours(hours, releaseHour, all);
    // A first use that is no number is no use (as modelReleases and the early-use check take it).
    const found = account.models.find((m) => m.name === model);
    const use = found !== undefined && Number.isFinite(found.firstUse) ? found : undefined;
    const moved = use !== undefined && !(use.firstUse < before);
    if (moved) addHours(use.hours, releaseHour, onModel);
    // adopters (used it in [release hour, adoptBy), not their first use ever, which for a
    // model's first users comes before its release) are counted among the active only
    const first = use ? firstActiveHour(use.hours, releaseHour, adoptBy) : -1;
    if (first >= 0 && moved) firstUses.push(first - releaseHour);
    if (sumHours(hours, releaseHour, adoptBy + windowHours) > 0) {
      active++;
      if (first >= 0) adopted++;
    }
  }
  const adoption = active > 0 ? adopted / active : 0;
  if (firstUses.length === 0) return { share: 0, adoption, windowRequests: 0 };
  firstUses.sort((a, b) => a - b);
  const anchor = firstUses[Math.ceil(PIVOT_ANCHOR_SHARE * firstUses.length) - 1] as number;
  let total = 0;
  let on = 0;
  for (let h = anchor; h < windowHours; h++) {
    total += all[h]!;
    on += onModel[h]!;
  }
  const share = total > 0 && total >= minRequests ? Math.min(1, on / total) : 0;
  return { share, adoption, windowRequests: total };
}
