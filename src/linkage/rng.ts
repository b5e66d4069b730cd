/**
 * Seeded pseudo-random numbers for the linkage stages.
 *
 * Every random step of a run (Louvain's node order, samplers) draws from here so
 * that the same data and the same seed give the same clusters. (A hub's star centre
 * is not a draw: build picks it by a seeded hash of the value, so that it depends
 * neither on the order values were read in nor on the other hubs.)
 * mulberry32: tiny, fast, 32-bit state; plenty for sampling and shuffles
 * (it is not, and need not be, cryptographic).
 */

/** Seeds are 32-bit: createRng keeps `seed >>> 0`, so a larger one would be another seed. */
export const MAX_SEED = 2 ** 32 - 1;

/** A generator of floats in [0, 1). */
export type Rng = () => number;

export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Integer in [0, n). */
export function randomInt(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}

/**
 * murmur3's 32-bit finaliser: mixes a 32-bit integer into a well-spread one. The seeded
 * hashes that pick a hub's centre, a co-use bucket or a co-activity band come from it.
 */
export function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
