/**
 * LSH banding finds exactly the near-duplicate pairs brute force finds, each once,
 * on random fingerprints and on planted families of near-copies.
 */
import {
  forEachNearDuplicatePair,
  groupNearDuplicates,
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

  /** Flips `count` distinct random bits of (h, l), among the first `within` bits. */
  function flip(rng: Rng, h: number, l: number, count: number, within = 64): [number, number] {
    const bits = new Set<number>();
    while (bits.size < count) bits.add(Math.floor(rng() * within));
    for (const bit of bits) {
      if (bit < 32) h = (h ^ (1 << bit)) >>> 0;
      else l = (l ^ (1 << (bit - 32))) >>> 0;
    }
    return [h, l];
  }

  /**
   * Random fingerprints, dense clusters (a base and variants 0..d + 1 bits from it, big
   * enough to fill buckets past the small-bucket path), clusters confined to a few bits,
   * chains (each step ≤ d bits from the last, so only transitivity joins the ends),
   * upper-case copies and junk, shuffled.
   */
  function mixedInput(seed: number, d: number): string[] {
    const rng = createRng(seed);
    const out: [number, number][] = [];
    for (let i = 0; i < 300; i++) out.push([randomWord(rng), randomWord(rng)]);
    for (let c = 0; c < 6; c++) {
      const base: [number, number] = [randomWord(rng), randomWord(rng)];
      const size = 20 + Math.floor(rng() * 60);
      for (let v = 0; v < size; v++) out.push(flip(rng, ...base, Math.floor(rng() * (d + 2))));
    }
    // Variants confined to a few bits share most keys: big buckets holding many groups
    // at once, which later variants bridge.
    for (let c = 0; c < 3; c++) {
      const base: [number, number] = [randomWord(rng), randomWord(rng)];
      for (let v = 0; v < 80; v++) {
        out.push(flip(rng, ...base, 1 + Math.floor(rng() * (2 * d + 2)), 4 * d + 8));
      }
    }
    for (let c = 0; c < 4; c++) {
      let at: [number, number] = [randomWord(rng), randomWord(rng)];
      for (let s = 0; s < 30; s++) {
        at = flip(rng, ...at, 1 + Math.floor(rng() * Math.max(d, 1)));
        out.push(at);
      }
    }
    const fps = out.map(([h, l]) => hex(h, l));
    for (let i = 0; i < 20; i++)
      fps.push((fps[Math.floor(rng() * fps.length)] as string).toUpperCase());
    fps.push('not-a-fingerprint', 'ffffffffffffffffff');
    for (let i = fps.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [fps[i], fps[j]] = [fps[j] as string, fps[i] as string];
    }
    return fps;
  }

  /** Single-linkage groups by comparing all pairs, numbered by first member. */
  function bruteForceGroups(fps: string[], d: number): number[] {
    const parsed = fps.map(parseFingerprint);
    const uf = new UnionFind(fps.length);
    for (let i = 0; i < fps.length; i++) {
      const a = parsed[i];
      if (!a) continue;
      for (let j = i + 1; j < fps.length; j++) {
        const b = parsed[j];
        if (!b) continue;
        const dist = popcount32((a[0] ^ b[0]) >>> 0) + popcount32((a[1] ^ b[1]) >>> 0);
        if (dist <= d) uf.union(i, j);
      }
    }
    const label = new Map<number, number>();
    return fps.map((_, i) => {
      const root = uf.find(i);
      if (!label.has(root)) label.set(root, label.size);
      return label.get(root) as number;
    });
  }

  it.each([0, 1, 2, 3, 4, 5, 6, 7, 8])(
    'gives exactly the single-linkage templates of all pairs at maxHamming %i',
    (d) => {
      for (const seed of [1, 2, 3, 4, 5]) {
        const fps = mixedInput(seed * 100 + d, d);
        const groups = templateGroups(fps, d);
        const expected = bruteForceGroups(fps, d);
        expect(Array.from(groups.group)).toEqual(expected);
        expect(groups.groupCount).toBe(Math.max(...expected) + 1);
        expect(groups.malformed).toBe(2);
        // Each reported pair joined two groups.
        expect(groups.stats.pairs).toBe(fps.length - groups.malformed - (groups.groupCount - 2));
      }
    },
  );

  it('groups many distinct variants of one template in near-linear work', () => {
    // 20,000 distinct variants 1–3 bits from one base, all one template. Visiting every
    // pair sharing a bucket took ~118 M candidates; within a bucket only members of
    // different groups are compared, and with a group only until the first near one.
    const rng = createRng(20_000);
    const seen = new Set<string>();
    while (seen.size < 20_000) {
      const [h, l] = flip(rng, 0x12345678, 0x9abcdef0, 1 + Math.floor(rng() * 3));
      seen.add(hex(h, l));
    }
    const groups = templateGroups([...seen], 3);
    expect(groups.groupCount).toBe(1);
    expect(groups.stats.pairs).toBe(19_999);
    expect(groups.stats.candidates).toBeLessThan(50 * 20_000);
  });

  it('unions every group of a bucket that one late fingerprint bridges', () => {
    // At d = 3 the keys are pairs of 5 bands (13, 13, 13, 13, 12 bits). Nine groups, each
    // all ones less {a, b, c} (one bit in each of bands 0–2) and less {a, b, c, e} for
    // twelve bits e shared by the groups, are far from each other and grouped at earlier
    // keys. All ones is within 3 bits of each group and shares only the last key, (3, 4),
    // with them; there it comes last (the largest value) and must union all nine.
    const hi: number[] = [];
    const lo: number[] = [];
    const add = (bits: number[]) => {
      let h = 0xffffffff;
      let l = 0xffffffff;
      for (const p of bits) {
        if (p < 32) h = (h ^ (1 << (31 - p))) >>> 0;
        else l = (l ^ (1 << (63 - p))) >>> 0;
      }
      hi.push(h);
      lo.push(l);
    };
    const shared = [9, 10, 11, 12, 22, 23, 24, 25, 35, 36, 37, 38];
    for (let k = 0; k < 9; k++) {
      add([k, 13 + k, 26 + k]);
      for (const e of shared) add([k, 13 + k, 26 + k, e]);
    }
    add([]);
    const uf = new UnionFind(hi.length);
    const stats = groupNearDuplicates(Uint32Array.from(hi), Uint32Array.from(lo), 3, uf);
    expect(hi.map((_, i) => uf.find(i))).toEqual(hi.map(() => 0));
    expect(stats.pairs).toBe(hi.length - 1);
  });

  it('unions in a given union-find; equal fingerprints at maxHamming 0 in linear work', () => {
    const hi = new Uint32Array(5000).fill(7);
    const lo = new Uint32Array(5000).fill(9);
    lo[4999] = 8;
    const uf = new UnionFind(5000);
    const stats = groupNearDuplicates(hi, lo, 0, uf);
    expect(stats).toEqual({ candidates: 4998, pairs: 4998 });
    expect(uf.find(4998)).toBe(0);
    expect(uf.find(4999)).toBe(4999);
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
