/**
 * Seed and scale options of the quality benches, parsed as the CLI parses --seed (plain
 * decimal digits in [0, 2^32)) and simulate's --scale (a decimal > 0). Number() read ''
 * as 0 and 'x' as NaN (which then ran as seed 0).
 */
import { positiveNumber, seedArg } from '../../src/cli/args';

/** One seed, from `--name text`. */
export function seedOption(name: string, text: string): number {
  try {
    return seedArg(text);
  } catch {
    throw new Error(`--${name}: "${text}" is not a seed (an integer in [0, 2^32))`);
  }
}

/** A comma-separated list of seeds; an empty or non-numeric entry is refused, not read as 0. */
export function seedsOption(name: string, text: string): number[] {
  return text.split(',').map((entry) => seedOption(name, entry));
}

/** `--scale`, as simulate's (the scale also names the simulation's cache folder). */
export function scaleOption(text: string): number {
  try {
    return positiveNumber(text);
  } catch {
    throw new Error(`--scale: "${text}" is not a decimal number > 0`);
  }
}
