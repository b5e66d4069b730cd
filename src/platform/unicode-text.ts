/**
 * Text that Neo4j stores as sent. Neo4j keeps strings as UTF-8, which turns a lone
 * surrogate into U+FFFD: two different values would become one, and a value would no
 * longer match itself when read back.
 */
import { z } from 'zod';

const LONE_SURROGATE = /\p{Cs}/u;
export const NOT_UNICODE = 'must be valid Unicode (a lone surrogate is not)';

export const isWellFormed = (v: string): boolean => !LONE_SURROGATE.test(v);

/** A string of `min`–`max` characters with no lone surrogate. */
export function unicodeText(min: number, max: number) {
  return z.string().min(min).max(max).refine(isWellFormed, NOT_UNICODE);
}
