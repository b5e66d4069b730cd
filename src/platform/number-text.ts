/**
 * Numbers as people type them in settings, options and query strings. `Number()` (and
 * `z.coerce.number()`) also reads `0x1F90`, `1e3`, `Infinity` and a blank string (as 0),
 * which no one means there.
 */
import { z } from 'zod';

/** Plain decimal digits: a whole number. */
export const DIGITS = /^\d+$/;

/** Decimal digits with an optional fraction (`0.7`, `.5`, `1.`): no sign, exponent or hex. */
export const DECIMAL = /^(\d+(\.\d*)?|\.\d+)$/;

/**
 * A query parameter read as a number only when it is written as `pattern` says, then
 * checked by `schema` (bounds, default: absent stays undefined for it). The OpenAPI
 * document shows `schema` (type, bounds, default), as zod renders its input.
 */
function numberParam<T extends z.ZodType>(pattern: RegExp, message: string, schema: T) {
  return z.preprocess((value, ctx) => {
    if (value === undefined) return value;
    if (typeof value === 'string' && pattern.test(value)) return Number(value);
    ctx.addIssue({ code: 'custom', message, input: value });
    return z.NEVER;
  }, schema);
}

/** `?limit=20`: plain decimal digits (not '', ' ', `0x10` or `1e2`). */
export function wholeNumberParam<T extends z.ZodType>(schema: T) {
  return numberParam(DIGITS, 'a whole number in decimal digits', schema);
}

/** `?minRisk=0.7`: decimal digits with an optional fraction. */
export function decimalParam<T extends z.ZodType>(schema: T) {
  return numberParam(DECIMAL, 'a decimal number such as 0.7', schema);
}
