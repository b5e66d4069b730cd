/**
 * Numbers as people type them in settings and options. `Number()` also reads `0x1F90`,
 * `1e3`, `Infinity` and a blank string (as 0), which no one means there.
 */

/** Plain decimal digits: a whole number. */
export const DIGITS = /^\d+$/;

/** Decimal digits with an optional fraction (`0.7`, `.5`, `1.`): no sign, exponent or hex. */
export const DECIMAL = /^(\d+(\.\d*)?|\.\d+)$/;
