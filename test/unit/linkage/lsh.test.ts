/**
 * LSH banding groups fingerprints exactly as unioning every pair brute force finds,
 * on random fingerprints, planted families of near-copies and crafted buckets, with
 * candidates far fewer than all pairs.
 */
import {
  groupNearDuplicates,
  parseFingerprint,
  promptTemplates,
  templateGroups,
  UnionFind,
} from '../../../src/linkage/lsh';
import { IdentifierTable } from '../../../src/linkage/identifier-table';
import { createRng, type Rng } from '../../../src/linkage/rng';
import type { Identifier } from '../../../src/linkage/types';
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

/**
 * n distinct fingerprints equal to (h, l) on their top `shared` bits, the other bits
 * random: they share every key within those bits, mostly far apart below them.
 */
function sharingTop(
  seed: number,
  n: number,
  shared: number,
  h0 = 0xdeadbeef,
  l0 = 0xab12cd34,
): { hi: Uint32Array; lo: Uint32Array } {
  const rng = createRng(seed);
  const seen = new Set<string>();
  const hi: number[] = [];
  const lo: number[] = [];
  while (hi.length < n) {
    let h = h0;
    let l = l0;
    for (let bit = shared; bit < 64; bit++) {
      if (rng() < 0.5) continue;
      if (bit < 32) h = (h ^ (1 << (31 - bit))) >>> 0;
      else l = (l ^ (1 << (63 - bit))) >>> 0;
    }
    if (seen.has(hex(h, l))) continue;
    seen.add(hex(h, l));
    hi.push(h);
    lo.push(l);
  }
  return { hi: Uint32Array.from(hi), lo: Uint32Array.from(lo) };
}

/**
 * mixedInput plus buckets large enough to be split: fingerprints sharing their top 40,
 * 30 or 20 bits and random below; the same below a popular template's top 40 bits,
 * mixed with its near variants; sparse ones (d + 1 to d + 3 low bits from a base),
 * shuffled.
 */
function splitInput(seed: number, d: number): string[] {
  const rng = createRng(seed);
  const fps = mixedInput(seed, d);
  const add = ({ hi, lo }: { hi: Uint32Array; lo: Uint32Array }) =>
    hi.forEach((h, i) => fps.push(hex(h, lo[i] as number)));
  for (const shared of [40, 30, 20]) add(sharingTop(seed + shared, 150, shared));
  const base: [number, number] = [randomWord(rng), randomWord(rng)];
  add(sharingTop(seed + 1, 150, 40, ...base));
  for (let v = 0; v < 150; v++) fps.push(hex(...flip(rng, ...base, Math.floor(rng() * (d + 1)))));
  for (let v = 0; v < 150; v++) {
    fps.push(hex(...flip(rng, ...base, d + 1 + Math.floor(rng() * 3), 24 + 4 * d)));
  }
  for (let i = fps.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [fps[i], fps[j]] = [fps[j] as string, fps[i] as string];
  }
  return fps;
}

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

  it.each([0, 1, 2, 3, 4, 5, 6, 7, 8])(
    'gives exactly the single-linkage templates of all pairs when buckets are split, at maxHamming %i',
    (d) => {
      for (const seed of [1, 2]) {
        const fps = splitInput(seed * 100 + d, d);
        const groups = templateGroups(fps, d);
        const expected = bruteForceGroups(fps, d);
        expect(Array.from(groups.group)).toEqual(expected);
        expect(groups.groupCount).toBe(Math.max(...expected) + 1);
        expect(groups.stats.pairs).toBe(fps.length - groups.malformed - (groups.groupCount - 2));
        // The buckets were split (at 0 equal fingerprints are grouped without buckets).
        if (d > 0) expect(groups.stats.rebucketed).toBeGreaterThan(0);
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

  it('groups fingerprints that share a bucket but are far apart in near-linear work', () => {
    // A client can send fingerprints sharing their top 40 bits, 24 random low bits: at
    // d = 3 they all share three keys, yet almost none is within 3 bits of another, so
    // each is its own group. Scanning every group of the bucket per member took
    // 1.5 · n² distances (1.5 M at n = 1,000, 24 M at n = 4,000: three times all pairs,
    // 1,500 and 6,000 per fingerprint). Such a bucket is split on its varying bits.
    for (const n of [1000, 4000, 16_000]) {
      const { hi, lo } = sharingTop(n, n, 40);
      const uf = new UnionFind(n);
      const stats = groupNearDuplicates(hi, lo, 3, uf);
      expect(stats.candidates).toBeLessThan(200 * n);
      expect(stats.rebucketed).toBeLessThan(40 * n);
      if (n > 4000) continue;
      if (n === 4000) expect(stats.candidates).toBeLessThan((n * (n - 1)) / 2 / 20);
      const expected = new UnionFind(n);
      for (const pair of bruteForce(hi, lo, 3)) {
        const [i, j] = pair.split('-').map(Number) as [number, number];
        expected.union(i, j);
      }
      expect(Array.from(hi, (_, i) => uf.find(i))).toEqual(
        Array.from(hi, (_, i) => expected.find(i)),
      );
      expect(stats.pairs).toBe(n - new Set(Array.from(hi, (_, i) => uf.find(i))).size);
    }
  });

  it('keys on pairs of bands: few chance candidates among unrelated fingerprints', () => {
    // 20,000 random fingerprints, no near-duplicates. Single 16-bit bands (d = 3) would
    // share buckets by chance about 4 · n²/2^17 ≈ 6,100 times; pairs of 12–13-bit
    // bands about 10 · n²/2^26 ≈ 30.
    const { hi, lo } = fingerprints(5, 20_000, 0, 0);
    const stats = groupNearDuplicates(hi, lo, 3, new UnionFind(hi.length));
    expect(stats.pairs).toBe(0);
    expect(stats.candidates).toBeLessThan(300);
  });

  it('rejects a nonsensical distance', () => {
    expect(() =>
      groupNearDuplicates(new Uint32Array(1), new Uint32Array(1), -1, new UnionFind(1)),
    ).toThrow(RangeError);
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
    expect(stats).toEqual({ candidates: 4998, pairs: 4998, rebucketed: 0 });
    expect(uf.find(4998)).toBe(0);
    expect(uf.find(4999)).toBe(4999);
  });

  it('parses fingerprints case-insensitively and rejects malformed ones', () => {
    expect(parseFingerprint('FFFFFFFF00000001')).toEqual([0xffffffff, 1]);
    expect(parseFingerprint('123')).toBeNull();
    expect(parseFingerprint('zzzzzzzzzzzzzzzz')).toBeNull();
  });
});

/** promptTemplates over a table of `ids` (the allow-list stays a list, as in a run). */
const templatesOf = (ids: Identifier[], maxHamming: number, allowlist: Identifier[]) =>
  promptTemplates(IdentifierTable.of(ids), maxHamming, allowlist);

describe('promptTemplates', () => {
  it('gives each prompt identifier its template, every other identifier -1', () => {
    const base = 'a1b2c3d4e5f60718';
    const t = templatesOf(
      [
        { kind: 'ip', value: '10.0.0.1' },
        { kind: 'prompt', value: base },
        { kind: 'payment', value: 'pm-1' },
        { kind: 'prompt', value: 'a1b2c3d4e5f60719' }, // one bit from base
        { kind: 'prompt', value: 'ffffffffffffffff' },
        { kind: 'prompt', value: 'zz' },
      ],
      3,
      [],
    );
    expect(Array.from(t.ofIdentifier)).toEqual([-1, 0, -1, 0, 1, 2]);
    expect(t).toMatchObject({ count: 3, maxHamming: 3, malformed: 1 });
  });
});

describe('promptTemplates: allow-listed fingerprints', () => {
  const prompts = (values: string[]) => values.map((value) => ({ kind: 'prompt' as const, value }));
  const distance = (a: string, b: string): number => {
    const x = parseFingerprint(a);
    const y = parseFingerprint(b);
    if (!x || !y) return Infinity;
    return popcount32((x[0] ^ y[0]) >>> 0) + popcount32((x[1] ^ y[1]) >>> 0);
  };

  it('allows the template of a listed fingerprint that does not occur in the run', () => {
    const F = '0123456789abcdef';
    const rng = createRng(3);
    const [h, l] = parseFingerprint(F) as [number, number];
    const variants = [1, 1, 2, 3].map((bits) => hex(...flip(rng, h, l, bits)));
    const other = 'fedcba9876543210';
    const t = templatesOf(prompts([...variants, other]), 3, prompts([F]));
    const allowedOf = (i: number) => t.allowed[t.ofIdentifier[i] as number];
    expect([0, 1, 2, 3, 4].map(allowedOf)).toEqual([1, 1, 1, 1, 0]);
    // Without the allow-list nothing is allowed; the grouping is the same.
    const open = templatesOf(prompts([...variants, other]), 3, []);
    expect(open.allowed.every((x) => x === 0)).toBe(true);
    expect(open.ofIdentifier).toEqual(t.ofIdentifier);
  });

  it('a listed fingerprint near two templates allows both without merging them', () => {
    // A = 0…0; T1's fingerprints are 2 bits from A, T2's 2 other bits: T1 and T2 are
    // 4 bits apart, separate templates at maxHamming 3, and A is within 3 of both.
    const run = ['0000000000000003', '0000000000000003', 'c000000000000000'];
    const far = '00000000ffff0000';
    const t = templatesOf(prompts([...run, far]), 3, prompts(['0000000000000000']));
    expect(t.count).toBe(3);
    expect(t.ofIdentifier[0]).not.toBe(t.ofIdentifier[2]);
    expect(t.allowed[t.ofIdentifier[0] as number]).toBe(1);
    expect(t.allowed[t.ofIdentifier[2] as number]).toBe(1);
    expect(t.allowed[t.ofIdentifier[3] as number]).toBe(0);
  });

  it('is within maxHamming, case aside; malformed values only by their text', () => {
    const t = templatesOf(
      prompts(['00000000000000ff', '0000000000000fff', 'Not-Hex', 'junk']),
      3,
      prompts(['00000000000000F0', 'not-hex']),
    );
    // '…ff' is 4 bits from '…F0', '…fff' 8: neither is allowed; 'Not-Hex' is, by text.
    expect(t.count).toBe(4);
    expect(Array.from(t.allowed)).toEqual([0, 0, 1, 0]);
    const exact = templatesOf(prompts(['ABCDEF0123456789', 'abcdef012345678f']), 0, [
      { kind: 'prompt', value: 'abcdef0123456789' },
      { kind: 'ip', value: 'abcdef012345678f' },
    ]);
    expect(Array.from(exact.allowed)).toEqual([1, 0]);
  });

  it.each([0, 1, 2, 3, 4, 5])(
    'allows exactly the templates with a fingerprint within %i bits of a listed one, in any order',
    (d) => {
      for (const seed of [1, 2, 3]) {
        const fps = mixedInput(seed * 1000 + d, d);
        const rng = createRng(seed * 7 + d);
        // Listed: near (0..d + 2 bits) copies of some run fingerprints, random ones,
        // upper-case ones and junk.
        const listed: string[] = [];
        for (let i = 0; i < 40; i++) {
          const p = parseFingerprint(fps[Math.floor(rng() * fps.length)] as string);
          if (p) listed.push(hex(...flip(rng, p[0], p[1], Math.floor(rng() * (d + 3)))));
        }
        for (let i = 0; i < 40; i++) listed.push(hex(randomWord(rng), randomWord(rng)));
        listed.push((listed[0] as string).toUpperCase(), 'not-a-fingerprint');
        const t = templatesOf(prompts(fps), d, prompts(listed));
        const expected = new Uint8Array(t.count);
        fps.forEach((fp, i) => {
          const near = listed.some(
            (x) => distance(fp, x) <= d || fp.toLowerCase() === x.toLowerCase(),
          );
          if (near) expected[t.ofIdentifier[i] as number] = 1;
        });
        expect(Array.from(t.allowed)).toEqual(Array.from(expected));
        expect(expected.some((x) => x === 1)).toBe(true);
        expect(expected.some((x) => x === 0)).toBe(true);
        // The grouping does not depend on the allow-list.
        expect(t.ofIdentifier).toEqual(templatesOf(prompts(fps), d, []).ofIdentifier);
        // Nor the flags on the order of either list.
        const reversed = templatesOf(
          prompts([...fps].reverse()),
          d,
          prompts([...listed].reverse()),
        );
        const allowedOf = (p: typeof t, i: number) => p.allowed[p.ofIdentifier[i] as number];
        fps.forEach((_, i) =>
          expect(allowedOf(reversed, fps.length - 1 - i)).toBe(allowedOf(t, i)),
        );
      }
    },
  );

  it('costs near-linear work with thousands of listed fingerprints', () => {
    // 20,000 variants of one template, 20,000 random fingerprints, 5,000 random listed
    // ones and 1 near the template: each run fingerprint looks up 10 keys; an allowed
    // template's other variants cost nothing; chance collisions are rare.
    const rng = createRng(42);
    const run: string[] = [];
    for (let i = 0; i < 20_000; i++)
      run.push(hex(...flip(rng, 0x12345678, 0x9abcdef0, 1 + Math.floor(rng() * 3))));
    for (let i = 0; i < 20_000; i++) run.push(hex(randomWord(rng), randomWord(rng)));
    const listed: string[] = [];
    for (let i = 0; i < 5_000; i++) listed.push(hex(randomWord(rng), randomWord(rng)));
    listed.push(hex(...flip(rng, 0x12345678, 0x9abcdef0, 2)));
    const t = templatesOf(prompts(run), 3, prompts(listed));
    expect(t.allowed[t.ofIdentifier[0] as number]).toBe(1);
    expect(t.allowed.reduce((s, x) => s + x, 0)).toBe(1);
    expect(t.allowCandidates).toBeLessThan(1_000);
  });
});
