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
 * A text with no tokens fingerprints to "0000000000000000".
 */

const SPLIT = /[^\p{L}\p{N}]+/u;

export function tokenize(text: string): string[] {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .split(SPLIT)
    .filter((t) => t.length > 0);
}

export function features(tokens: string[]): string[] {
  if (tokens.length === 1) return [tokens[0] as string];
  const out: string[] = [];
  for (let i = 0; i + 1 < tokens.length; i++) out.push(`${tokens[i]} ${tokens[i + 1]}`);
  return out;
}

const encoder = new TextEncoder();

/** FNV-1a 64 as two unsigned 32-bit halves [hi, lo] (plain numbers, no BigInt: hot path). */
export function fnv1a64(text: string): [number, number] {
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  for (const byte of encoder.encode(text)) {
    lo = (lo ^ byte) >>> 0;
    // (hi:lo) * 0x100000001b3 mod 2^64 = (hi:lo) * 0x1b3 + ((hi:lo) << 40)
    const loMul = lo * 0x1b3;
    const carry = Math.floor(loMul / 0x100000000);
    hi = (hi * 0x1b3 + carry + ((lo << 8) >>> 0)) % 0x100000000;
    lo = loMul % 0x100000000;
  }
  return [hi >>> 0, lo >>> 0];
}

export function simhash(text: string): string {
  const votes = new Int32Array(64);
  for (const feature of features(tokenize(text))) {
    const [hi, lo] = fnv1a64(feature);
    for (let b = 0; b < 32; b++) {
      votes[b] = (votes[b] as number) + ((hi >>> (31 - b)) & 1 ? 1 : -1);
      votes[32 + b] = (votes[32 + b] as number) + ((lo >>> (31 - b)) & 1 ? 1 : -1);
    }
  }
  let hi = 0;
  let lo = 0;
  for (let b = 0; b < 32; b++) {
    if ((votes[b] as number) > 0) hi |= 1 << (31 - b);
    if ((votes[32 + b] as number) > 0) lo |= 1 << (31 - b);
  }
  return hex32(hi >>> 0) + hex32(lo >>> 0);
}

function hex32(n: number): string {
  return n.toString(16).padStart(8, '0');
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
