/**
 * LSH banding finds exactly the near-duplicate pairs brute force finds, each once,
 * on random fingerprints and on planted families of near-copies.
 */
import {
  forEachNearDuplicatePair,
  parseFingerprint,
  promptTemplates,
  templateGroups,
  UnionFind,
} from '../../../src/linkage/lsh';
import { createRng, type Rng } from '../../../src/linkage/rng';
import { popcount32 } from '../../../src/ingest/simhash';

function randomWord(rng: Rng): number {
  return Math.floor(rng() * 2 ** 32) >>> 0;
}

/** Random fingerprints plus planted families: copies of a base with 0–5 random bits flipped. */
function fingerprints(seed: number, random: number, families: number, perFamily: number) {
  const rng = createRng(seed);
  const hi: number[] = [];
  const lo: number[] = [];
  for (let i = 0; i < random; i++) {
    hi.push(randomWord(rng));
    lo.push(randomWord(rng));
  }
  for (let f = 0; f < families; f++) {
    const bh = randomWord(rng);
    const bl = randomWord(rng);
    for (let c = 0; c < perFamily; c++) {
      let h = bh;
      let l = bl;
      const flips = Math.floor(rng() * 6);
      for (let k = 0; k < flips; k++) {
        const bit = Math.floor(rng() * 64);
        if (bit < 32) h = (h ^ (1 << bit)) >>> 0;
        else l = (l ^ (1 << (bit - 32))) >>> 0;
      }
      hi.push(h);
      lo.push(l);
    }
  }
  return { hi: Uint32Array.from(hi), lo: Uint32Array.from(lo) };
}

function bruteForce(hi: Uint32Array, lo: Uint32Array, d: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < hi.length; i++) {
    for (let j = i + 1; j < hi.length; j++) {
      const dist =
        popcount32(((hi[i] as number) ^ (hi[j] as number)) >>> 0) +
        popcount32(((lo[i] as number) ^ (lo[j] as number)) >>> 0);
      if (dist <= d) out.push(`${i}-${j}`);
    }
  }
  return out.sort();
}

function hex(h: number, l: number): string {
  return h.toString(16).padStart(8, '0') + l.toString(16).padStart(8, '0');
}

describe('forEachNearDuplicatePair', () => {
  it.each([1, 2, 3, 4, 5, 6])('matches brute force at maxHamming %i, each pair once', (d) => {
    const { hi, lo } = fingerprints(d * 7 + 1, 400, 30, 12);
    const found: string[] = [];
    const stats = forEachNearDuplicatePair(hi, lo, d, (i, j) => {
      expect(i).toBeLessThan(j);
      found.push(`${i}-${j}`);
    });
    found.sort();
    const expected = bruteForce(hi, lo, d);
    expect(expected.length).toBeGreaterThan(30); // the planted families make plenty
    expect(found).toEqual(expected);
    expect(stats.pairs).toBe(expected.length);
    // Candidates come from shared bands, far fewer than all pairs.
    expect(stats.candidates).toBeLessThan((hi.length * (hi.length - 1)) / 2 / 10);
  });

  it('keys on pairs of bands: few chance candidates among unrelated fingerprints', () => {
    // 20,000 random fingerprints, no near-duplicates. Single 16-bit bands (d = 3) would
    // share buckets by chance about 4 · n²/2^17 ≈ 6,100 times; pairs of 12–13-bit
    // bands about 10 · n²/2^26 ≈ 30.
    const { hi, lo } = fingerprints(5, 20_000, 0, 0);
    const stats = forEachNearDuplicatePair(hi, lo, 3, () => {});
    expect(stats.pairs).toBe(0);
    expect(stats.candidates).toBeLessThan(300);
  });

  it('finds exact duplicates only at maxHamming 0', () => {
    const hi = Uint32Array.from([1, 1, 1, 2]);
    const lo = Uint32Array.from([5, 5, 4, 5]);
    const found: string[] = [];
    forEachNearDuplicatePair(hi, lo, 0, (i, j) => found.push(`${i}-${j}`));
    expect(found).toEqual(['0-1']);
  });

  it('rejects a nonsensical distance', () => {
    expect(() =>
      forEachNearDuplicatePair(new Uint32Array(1), new Uint32Array(1), -1, () => {}),
    ).toThrow(RangeError);
  });
});

describe('templateGroups', () => {
  it('groups the transitive closure of near-duplicates, numbered by first member', () => {
    const { hi, lo } = fingerprints(99, 200, 20, 8);
    const fps = Array.from(hi, (h, i) => hex(h, lo[i] as number));
    fps.push('not-a-fingerprint');
    const groups = templateGroups(fps, 3);

    const uf = new UnionFind(fps.length);
    for (const pair of bruteForce(hi, lo, 3)) {
      const [i, j] = pair.split('-').map(Number) as [number, number];
      uf.union(i, j);
    }
    for (let i = 0; i < fps.length; i++) {
      for (let j = i + 1; j < fps.length; j += 7) {
        expect(groups.group[i] === groups.group[j]).toBe(uf.find(i) === uf.find(j));
      }
    }
    expect(groups.malformed).toBe(1);
    expect(groups.group[0]).toBe(0);
    const firstSeen = [...new Set(groups.group)];
    expect(firstSeen).toEqual(firstSeen.slice().sort((a, b) => a - b));
  });

  it('parses fingerprints case-insensitively and rejects malformed ones', () => {
    expect(parseFingerprint('FFFFFFFF00000001')).toEqual([0xffffffff, 1]);
    expect(parseFingerprint('123')).toBeNull();
    expect(parseFingerprint('zzzzzzzzzzzzzzzz')).toBeNull();
  });
});

describe('promptTemplates', () => {
  it('gives each prompt identifier its template, every other identifier -1', () => {
    const base = 'a1b2c3d4e5f60718';
    const t = promptTemplates(
      [
        { kind: 'ip', value: '10.0.0.1' },
        { kind: 'prompt', value: base },
        { kind: 'payment', value: 'pm-1' },
        { kind: 'prompt', value: 'a1b2c3d4e5f60719' }, // one bit from base
        { kind: 'prompt', value: 'ffffffffffffffff' },
        { kind: 'prompt', value: 'zz' },
      ],
      3,
    );
    expect(Array.from(t.ofIdentifier)).toEqual([-1, 0, -1, 0, 1, 2]);
    expect(t).toMatchObject({ count: 3, maxHamming: 3, malformed: 1 });
  });
});
