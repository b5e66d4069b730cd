/**
 * Numeric options of the benches, read as the CLI reads its own (plain digits, plain
 * decimals): Number() read 'abc' as NaN and '' as 0, and a bench then printed figures of
 * a run that was not the one named (review, 12-06).
 */
import { DECIMAL, DIGITS } from '../src/platform/number-text';

/** A whole number ≥ `min` from `--name text`. */
export function wholeOption(name: string, text: string | undefined, min = 1): number {
  const n = text !== undefined && DIGITS.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min) {
    throw new Error(`--${name}: "${text}" is not a whole number ≥ ${min}`);
  }
  return n;
}

/** A share in (0, 1] from `--name text`. */
export function shareOption(name: string, text: string | undefined): number {
  const n = text !== undefined && DECIMAL.test(text) ? Number(text) : NaN;
  if (!(n > 0 && n <= 1)) throw new Error(`--${name}: "${text}" is not a number in (0, 1]`);
  return n;
}
