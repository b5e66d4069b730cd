/**
 * 64-bit SimHash of prompt text, so raw prompts never need to be stored.
 *
 * Tokenisation (clients computing fingerprints themselves must match it):
 *   1. Unicode NFKC normalisation, then lower-case.
 *   2. Split on every run of characters that are not letters or digits
 *      (regex /[^\p{L}\p{N}]+/u); drop empty tokens.
 *   3. Features are word bigrams "t[i] t[i+1]" (joined by one space); a text
 *      with a single token uses that token as its only feature.
 *   4. Each feature is hashed with 64-bit FNV-1a over its UTF-8 bytes; every
 *      occurrence votes +1/-1 on each of the 64 bits; a bit is 1 when its sum is > 0.
 *   5. The result is 16 lowercase hex characters, most significant bit first.
 * A text with no tokens fingerprints to "0000000000000000" (ingest drops it: validate.ts).
 */

const WORD_CHAR = /^[\p{L}\p{N}]$/u;
/** Per UTF-16 code unit outside surrogates: 0 not yet known, 1 letter or digit, 2 neither. */
const unitClass = new Uint8Array(0x10000);

function isWordUnit(code: number): boolean {
  let known = unitClass[code] as number;
  if (known === 0) {
    known = WORD_CHAR.test(String.fromCharCode(code)) ? 1 : 2;
    unitClass[code] = known;
  }
  return known === 1;
}

/**
 * The documented split, as a scan: the Unicode-property regex split took most of a long
 * prompt's fingerprinting time. Equal to `.split(/[^\p{L}\p{N}]+/u)` without empties.
 */
export function tokenize(text: string): string[] {
  return tokenizeNormal(normalise(text));
}

/** Step 1: NFKC, then lower-case. NFKC can make a text up to 18 times longer (U+FDFA). */
export function normalise(text: string): string {
  return text.normalize('NFKC').toLowerCase();
}

/** Step 2 over text already through `normalise`. */
function tokenizeNormal(normal: string): string[] {
  const tokens: string[] = [];
  let start = -1;
  for (let i = 0; i < normal.length;) {
    const code = normal.charCodeAt(i);
    let width = 1;
    let word: boolean;
    if (code < 0xd800 || code >= 0xe000) word = isWordUnit(code);
    else {
      // A surrogate pair is one code point (e.g. U+1D400); a lone surrogate is neither.
      width = normal.codePointAt(i)! > 0xffff ? 2 : 1;
      word = width === 2 && WORD_CHAR.test(normal.slice(i, i + 2));
    }
    if (word && start < 0) start = i;
    else if (!word && start >= 0) {
      tokens.push(normal.slice(start, i));
      start = -1;
    }
    i += width;
  }
  if (start >= 0) tokens.push(normal.slice(start));
  return tokens;
}

/*
 * FNV-1a 64 state as two unsigned 32-bit halves, in module variables stepped byte by byte
 * without allocating: a prompt of 1 M characters is ~2 M bytes to hash.
 */
const OFFSET_HI = 0xcbf29ce4;
const OFFSET_LO = 0x84222325;
let stateHi = 0;
let stateLo = 0;

function step(byte: number): void {
  const x = (stateLo ^ byte) >>> 0;
  // (hi:lo) * 0x100000001b3 mod 2^64 = (hi:lo) * 0x1b3 + ((hi:lo) << 40); x * 0x1b3 < 2^41 is exact.
  const product = x * 0x1b3;
  stateHi = (Math.imul(stateHi, 0x1b3) + ((product / 0x100000000) | 0) + (x << 8)) >>> 0;
  stateLo = product >>> 0;
}

/** Steps over the UTF-8 bytes of `text` as TextEncoder writes them (a lone surrogate is U+FFFD). */
function stepText(text: string): void {
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      step(c);
      continue;
    }
    if (c < 0x800) {
      step(0xc0 | (c >> 6));
      step(0x80 | (c & 0x3f));
      continue;
    }
    const low = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
    if (c >= 0xd800 && c < 0xdc00 && low >= 0xdc00 && low < 0xe000) {
      const cp = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
      step(0xf0 | (cp >> 18));
      step(0x80 | ((cp >> 12) & 0x3f));
      step(0x80 | ((cp >> 6) & 0x3f));
      step(0x80 | (cp & 0x3f));
      i++;
      continue;
    }
    if (c >= 0xd800 && c < 0xe000) c = 0xfffd;
    step(0xe0 | (c >> 12));
    step(0x80 | ((c >> 6) & 0x3f));
    step(0x80 | (c & 0x3f));
  }
}

/** FNV-1a 64 of the UTF-8 bytes of `text`, as two unsigned 32-bit halves [hi, lo]. */
export function fnv1a64(text: string): [number, number] {
  hashText(text);
  return [stateHi, stateLo];
}

/** Leaves FNV-1a 64 of `text` in stateHi/stateLo. */
function hashText(text: string): void {
  stateHi = OFFSET_HI;
  stateLo = OFFSET_LO;
  stepText(text);
}

/**
 * The 64 vote sums of a SimHash, fed feature by feature. A bigram "a b" is hashed without
 * building its string: the state after "a " is kept per token, because every token starts
 * a bigram and prompts repeat their vocabulary, so most bytes are hashed once, not twice.
 */
export class SimhashVotes {
  private readonly sums = new Int32Array(64);
  private readonly prefixAt = new Map<string, number>();
  private readonly prefixStates: number[] = [];

  /** The single feature of a one-token text. */
  addToken(token: string): void {
    hashText(token);
    this.vote();
  }

  addBigram(first: string, second: string): void {
    const at = this.prefixAt.get(first);
    if (at === undefined) {
      hashText(first);
      step(0x20);
      this.prefixAt.set(first, this.prefixStates.length);
      this.prefixStates.push(stateHi, stateLo);
    } else {
      stateHi = this.prefixStates[at] as number;
      stateLo = this.prefixStates[at + 1] as number;
    }
    stepText(second);
    this.vote();
  }

  /** A copy with the same sums, for adding more features to a shared start. */
  fork(): SimhashVotes {
    const copy = new SimhashVotes();
    copy.sums.set(this.sums);
    return copy;
  }

  /** 16 lowercase hex characters: bit b is 1 when its sum is > 0, most significant first. */
  fingerprint(): string {
    let hi = 0;
    let lo = 0;
    for (let b = 0; b < 32; b++) {
      if ((this.sums[b] as number) > 0) hi |= 1 << (31 - b);
      if ((this.sums[32 + b] as number) > 0) lo |= 1 << (31 - b);
    }
    return hex32(hi >>> 0) + hex32(lo >>> 0);
  }

  private vote(): void {
    const hi = stateHi;
    const lo = stateLo;
    const sums = this.sums;
    for (let b = 0; b < 32; b++) {
      sums[b] = (sums[b] as number) + ((hi >>> (31 - b)) & 1 ? 1 : -1);
      sums[32 + b] = (sums[32 + b] as number) + ((lo >>> (31 - b)) & 1 ? 1 : -1);
    }
  }
}

export function simhash(text: string): string {
  return simhashNormal(normalise(text));
}

/** `simhash` of a text already through `normalise` (callers that measure it first). */
export function simhashNormal(normal: string): string {
  return simhashTokens(tokenizeNormal(normal));
}

/** Prompts of fewer words get no fingerprint at ingest (`promptFingerprintNormal`). */
export const MIN_PROMPT_WORDS = 4;

/**
 * A word: a letter or digit, then letters, digits and the marks that belong to them (a
 * vowel sign, a virama). Not marks alone: an emoji's variation selector (❤️) or NFKC's
 * `´` is one, and counted as words they let `hunter2 ❤️ ❤️ ❤️`, one token, through (review).
 */
const WORD_WITH_MARKS = /[\p{L}\p{N}][\p{L}\p{M}\p{N}]*/gu;

/**
 * The fingerprint ingest keeps of a prompt already through `normalise`, or undefined when
 * it has fewer than MIN_PROMPT_WORDS words: with one to three its SimHash is (nearly)
 * a plain hash of the text, which a list of likely texts turns back into the text, and a
 * prompt that short is no template worth linking accounts by. Words are counted with
 * their marks, as the hash's tokens are not: step 2 splits `पासवर्ड` at each vowel sign,
 * so two Hindi words are five tokens, and counting tokens let them through.
 */
export function promptFingerprintNormal(normal: string): string | undefined {
  return hasWords(normal, MIN_PROMPT_WORDS) ? simhashTokens(tokenizeNormal(normal)) : undefined;
}

/** Whether `normal` has at least `n` words (stops at the n-th). */
function hasWords(normal: string, n: number): boolean {
  WORD_WITH_MARKS.lastIndex = 0;
  let words = 0;
  while (words < n && WORD_WITH_MARKS.exec(normal) !== null) words++;
  return words >= n;
}

function simhashTokens(tokens: string[]): string {
  const votes = new SimhashVotes();
  if (tokens.length === 1) votes.addToken(tokens[0] as string);
  for (let i = 0; i + 1 < tokens.length; i++)
    votes.addBigram(tokens[i] as string, tokens[i + 1] as string);
  return votes.fingerprint();
}

function hex32(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/**
 * A fingerprint as the graph stores it (16 lower-case hex digits) from 16 hex digits
 * in either case; null for anything else.
 */
export function canonicalFingerprint(text: string): string | null {
  return /^[0-9a-f]{16}$/i.test(text) ? text.toLowerCase() : null;
}

/** Hamming distance between two 16-hex-char fingerprints. */
export function hammingHex(a: string, b: string): number {
  return (
    popcount32((parseInt(a.slice(0, 8), 16) ^ parseInt(b.slice(0, 8), 16)) >>> 0) +
    popcount32((parseInt(a.slice(8), 16) ^ parseInt(b.slice(8), 16)) >>> 0)
  );
}

export function popcount32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}
