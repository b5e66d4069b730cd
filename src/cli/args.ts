/** Parsers of the CLI's numeric options; each refuses what it cannot take, with why. */
import { InvalidArgumentError } from 'commander';
import { MAX_SEED } from '../linkage/rng';
import { MAX_SCALE } from '../simulate/params';
import { DECIMAL, DIGITS } from '../platform/number-text';

/** Plain decimal digits, or undefined: Number() also reads '' and ' ' (as 0), 0x2A and 1e3. */
function digits(value: string): number | undefined {
  return DIGITS.test(value) ? Number(value) : undefined;
}

/**
 * A seed of a linkage run or the simulator: both fold seeds to 32 bits, so a larger one
 * would silently be another seed's twin.
 */
export function seedArg(value: string): number {
  const n = digits(value);
  if (n === undefined || n > MAX_SEED)
    throw new InvalidArgumentError('must be an integer in [0, 2^32)');
  return n;
}

export function positiveInt(value: string): number {
  const n = digits(value);
  if (n === undefined || n < 1 || !Number.isSafeInteger(n))
    throw new InvalidArgumentError('must be a positive integer');
  return n;
}

/** A decimal > 0 (`0.1`, `.05`): no exponent, hex or blank, as config reads decimals. */
export function positiveNumber(value: string): number {
  const n = DECIMAL.test(value) ? Number(value) : NaN;
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number');
  return n;
}

/** The simulator's scale: a decimal in (0, MAX_SCALE], refused here like any bad option. */
export function scaleArg(value: string): number {
  const n = positiveNumber(value);
  if (n > MAX_SCALE) throw new InvalidArgumentError(`must be at most ${MAX_SCALE}`);
  return n;
}
