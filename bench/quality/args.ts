/**
 * Seed options of the quality benches, parsed as the CLI parses --seed: plain decimal
 * digits in [0, 2^32). Number() reads '' as 0 and 'x' as NaN (which then ran as seed 0).
 */
import { seedArg } from '../../src/cli/args';

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

/**
 * `--scale`: a decimal > 0 (`0.1`, `.05`, `1`). Number() also read `1e-3`, `0x1` and `' '`
 * (as 0), and the scale names the simulation's cache folder.
 */
export function scaleOption(text: string): number {
  const scale = /^(\d+(\.\d*)?|\.\d+)$/.test(text) ? Number(text) : NaN;
  if (!(scale > 0)) throw new Error(`--scale: "${text}" is not a decimal number > 0`);
  return scale;
}
