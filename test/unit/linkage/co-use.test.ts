/**
 * Co-use (src/linkage/co-use.ts through build): a ring whose accounts each pay with
 * their own card and share no device is still linked when its accounts put their
 * traffic on the same template from the same proxy subnets, while the strangers on those
 * proxies and the many senders of that template are not pulled in.
 */
import { build, forPairsInBuckets } from '../../../src/linkage/build';
import { coUseGroups } from '../../../src/linkage/co-use';
import { subnetOf } from '../../../src/ingest/subnet';
import { detect } from '../../../src/linkage/detect';
import type { LinkageGraph } from '../../../src/linkage/types';
import { DEFAULTS } from '../../../src/linkage/weights';
import { type LinkRow, linksInput, neighbours, rng } from './fixtures';

type Link = LinkRow;
const input = linksInput;

/** Traffic from an IP, and so from its /24, as extract reads both. */
function net(a: number, ip: string, count: number): Link[] {
  const subnet = subnetOf(ip);
  return [
    [a, 'ip', ip, count],
    [a, 'subnet', subnet, count],
  ];
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
const TEMPLATE = 'a1b2c3d4e5f60718';
/** Far from TEMPLATE: its own template. */
const FRAMEWORK = '5e4d3c2b1a0f9e8d';

/**
 * A cell of `members`: each its own card, 100 requests on TEMPLATE (from `ips`,
 * spread evenly) plus `other` one-off prompts; `proxy users` share the proxies
 * with a little traffic and send TEMPLATE never; `template users` send TEMPLATE
 * heavily from their own home IPs.
 */
function world(opts: {
  cell: number[];
  proxies: string[];
  strangers: number[];
  senders: number[];
}) {
  const links: Link[] = [];
  for (const a of opts.cell) {
    links.push([a, 'payment', `card-${a}`, 1]);
    links.push([a, 'prompt', TEMPLATE, 100]);
    for (const ip of opts.proxies) links.push(...net(a, ip, Math.round(100 / opts.proxies.length)));
  }
  for (const a of opts.strangers) {
    // a proxy customer: a popular framework's prompt, two of the proxies
    links.push([a, 'payment', `card-${a}`, 1]);
    links.push([a, 'prompt', FRAMEWORK, 20]);
    for (const ip of [opts.proxies[a % 4], opts.proxies[(a + 1) % 4]])
      links.push(...net(a, ip as string, 10));
  }
  for (const a of opts.senders) {
    links.push([a, 'payment', `card-${a}`, 1]);
    links.push([a, 'prompt', TEMPLATE, 50]);
    links.push(...net(a, `198.51.${a >> 8}.${a & 255}`, 50));
  }
  return links;
}

describe('co-use links', () => {
  const cell = range(0, 12);
  const strangers = range(12, 212);
  const senders = range(212, 512);
  const proxies = ['203.0.113.1', '203.0.114.2', '198.18.0.7', '198.18.9.9'];
  const links = world({ cell, proxies, strangers, senders });

  it('link a ring on its own cards through a shared template and proxy subnets, and nobody else', () => {
    const g = build(input(512, links));
    expect(g.stats.coUseValues).toBeGreaterThan(0);
    for (const a of cell) expect(neighbours(g, a)).toEqual(cell.filter((b) => b !== a));
    // Nobody else is linked at all: not to the ring, not among themselves.
    for (const a of [...strangers, ...senders]) expect(neighbours(g, a)).toEqual([]);
    const communities = detect(g);
    const ringCommunity = communities.community[0];
    expect(ringCommunity).toBeGreaterThanOrEqual(0);
    expect(cell.every((a) => communities.community[a] === ringCommunity)).toBe(true);
  });

  it('without co-use (thresholds out of reach) the same ring has no link at all', () => {
    const g = build(input(512, links), { coUseMinEvents: 1e9 });
    expect(g.stats.coUseValues).toBe(0);
    for (const a of cell) expect(neighbours(g, a)).toEqual([]);
  });

  it('needs real use: a few requests on the template, or a sliver of traffic on an IP, do not count', () => {
    const light: Link[] = [];
    for (const a of range(0, 12)) {
      light.push([a, 'prompt', TEMPLATE, 3]); // below coUseMinEvents
      for (const ip of proxies) light.push(...net(a, ip, 3));
    }
    expect(build(input(12, light)).stats.coUseValues).toBe(0);
    const sliver: Link[] = [];
    for (const a of range(0, 12)) {
      sliver.push([a, 'prompt', TEMPLATE, 100]);
      sliver.push(...net(a, proxies[0] as string, 10)); // 10 of 1,010: under 2 %
      sliver.push(...net(a, `192.0.${a}.1`, 1000));
    }
    expect(build(input(12, sliver)).stats.coUseValues).toBe(0);
  });

  it('one shared (template, subnet) between two cells of 20 does not join them; each cell stays whole', () => {
    // Cells A and B: the same template, each over three proxies of its own, one in common.
    const both: Link[] = [];
    const a = range(0, 20);
    const b = range(20, 40);
    const own = (cell: number) => [1, 2, 3].map((i) => `198.18.${cell * 10 + i}.1`);
    for (const x of a) {
      both.push([x, 'prompt', TEMPLATE, 100]);
      for (const ip of [...own(1), '203.0.113.99']) both.push(...net(x, ip, 25));
    }
    for (const x of b) {
      both.push([x, 'prompt', TEMPLATE, 100]);
      for (const ip of [...own(2), '203.0.113.99']) both.push(...net(x, ip, 25));
    }
    const g = build(input(40, both));
    for (const x of a) expect(neighbours(g, x)).toEqual(a.filter((y) => y !== x));
    for (const x of b) expect(neighbours(g, x)).toEqual(b.filter((y) => y !== x));
  });
  it('never builds co-use on an allow-listed subnet or template', () => {
    const inp = input(512, links);
    expect(neighbours(build(inp), 0)).toHaveLength(cell.length - 1);
    const noSubnet = build({
      ...inp,
      allowlist: proxies.map((ip) => ({
        kind: 'subnet' as const,
        value: subnetOf(ip),
      })),
    });
    const noTemplate = build({ ...inp, allowlist: [{ kind: 'prompt', value: TEMPLATE }] });
    for (const g of [noSubnet, noTemplate]) {
      expect(g.stats.coUsePairs).toBe(0);
      for (const a of cell) expect(neighbours(g, a)).toEqual([]);
    }
  });
});

describe('co-use at scale', () => {
  it('links a cell of 150 (more than a shared value is expanded for) whole', () => {
    const links: Link[] = [];
    const subnets = range(0, 10).map((i) => `198.18.${i}.1`);
    for (const a of range(0, 150)) {
      links.push([a, 'prompt', TEMPLATE, 60]);
      for (const ip of subnets) links.push(...net(a, ip, 10));
    }
    const g = build(input(150, links));
    expect(g.source.length).toBe((150 * 149) / 2);
  });

  /** A cell of `n`, own cards, one template, each rotating over its own 8 of `subnets` proxy /24s. */
  function rotatingCell(n: number, subnets: number, seed: number): Link[] {
    const r = rng(seed);
    const links: Link[] = [];
    for (let a = 0; a < n; a++) {
      links.push([a, 'payment', `card-${a}`, 1], [a, 'prompt', TEMPLATE, 400]);
      const mine = new Set<number>();
      while (mine.size < 8) mine.add(Math.floor(r() * subnets));
      // an IP of its own in each (one /48 per proxy network): nothing shared but co-use
      for (const s of mine) links.push(...net(a, `2001:db8:${s + 1}::${(a + 1).toString(16)}`, 50));
    }
    return links;
  }

  /** Edge weights by `source * 100_000 + target`. */
  function weights(g: LinkageGraph): Map<number, number> {
    const out = new Map<number, number>();
    for (let e = 0; e < g.source.length; e++)
      out.set((g.source[e] as number) * 100_000 + (g.target[e] as number), g.weight[e] as number);
    return out;
  }

  it('links a cell of 1,000 rotating over 30 proxy /24s, its groups too big to expand whole', () => {
    // Found by review on 12-04: a group over coUseMaxExpandDegree was a star through its
    // lowest account, another centre per subnet, so almost no pair reached
    // coUseMinSubnets: 156 of these 1,000 accounts were in a community.
    const links = rotatingCell(1000, 30, 7);
    const g = build(input(1000, links));
    expect(g.stats.coUseValuesBucketed).toBe(30); // every group (~267 accounts) over 200
    expect(detect(g).stats.accountsInCommunities).toBe(1000);
    // Bucketed pairs get exactly what expanding every group whole gives them: each pair
    // found is a pair of the whole expansion, with the same weight.
    const whole = build(input(1000, links), { coUseMaxExpandDegree: 1000 });
    expect(whole.stats.coUseValuesBucketed).toBe(0);
    const weightOf = weights(whole);
    expect(g.source.length).toBeGreaterThan(whole.source.length / 3);
    for (const [key, w] of weights(g)) expect(weightOf.get(key)).toBeCloseTo(w, 5);
  });

  it("gives a ring's small group of a template whose other group is huge exactly its whole evidence", () => {
    // Found by review on 12-04: every group of a template took the bucket count of its
    // biggest, and the merge added a bucketed group's co-use again to pairs that had it
    // whole: the ring's pairs in no shared bucket of 6 (about 1 − (5/6)² ≈ 69 %) got it
    // twice (seen in the weight while a pair's prompt evidence is below its cap: groups
    // of 150 add 0.05 each).
    const links: Link[] = [];
    for (const a of range(0, 600)) {
      // heavy senders behind a SaaS egress pool of four /24s: a group of 600 on each,
      // bucketed (on fewer /24s they would take no part in co-use at all)
      links.push([a, 'payment', `card-${a}`, 1], [a, 'prompt', TEMPLATE, 50]);
      for (let s = 0; s < 4; s++) links.push(...net(a, `192.0.${2 + s}.${(a % 250) + 1}`, 50));
    }
    const ring = range(600, 750);
    for (const a of ring) {
      links.push([a, 'payment', `card-${a}`, 1], [a, 'prompt', TEMPLATE, 100]);
      for (let s = 0; s < 4; s++) links.push(...net(a, `198.18.${s}.${a - 599}`, 25));
    }
    const g = build(input(750, links));
    expect(g.stats.coUseValuesBucketed).toBe(4);
    const whole = build(input(750, links), { coUseMaxExpandDegree: 1000 });
    expect(whole.stats.coUseValuesBucketed).toBe(0);
    const got = weights(g);
    const want = weights(whole);
    for (const a of ring)
      for (const b of ring) {
        if (a >= b) continue;
        expect(want.get(a * 100_000 + b)).toBeGreaterThan(0);
        expect(got.get(a * 100_000 + b)).toBeCloseTo(want.get(a * 100_000 + b) as number, 5);
      }
  });

  it('links the cell of 1,000 whole though 4,000 others send its template from one SaaS egress (on one subnet each, no members)', () => {
    // Found by review on 12-04: the egress's group of 4,000 set the bucket count of every
    // group of the template (40), so the cell's groups of ~267 fell into buckets of ~7.
    const links = rotatingCell(1000, 30, 7);
    for (let a = 1000; a < 5000; a++) {
      links.push([a, 'payment', `card-${a}`, 1], [a, 'prompt', TEMPLATE, 50]);
      links.push(...net(a, `192.0.2.${(a % 250) + 1}`, 50));
    }
    const g = build(input(5000, links));
    // the cell's 30; the egress's senders, on one subnet each, form no group since 12-07
    // (the bucket count a huge group sets: the test above)
    expect(g.stats.coUseValuesBucketed).toBe(30);
    const found = detect(g);
    expect(found.stats.accountsInCommunities).toBe(1000);
    // and all of them are the cell: the egress's senders share one subnet, no co-use
    for (let e = 0; e < g.source.length; e++) expect(g.target[e]).toBeLessThan(1000);
    // the cell's pairs are those it has alone (21,009; 2,397 before the fix)
    expect(g.source.length).toBe(build(input(1000, rotatingCell(1000, 30, 7))).source.length);
  });

  it('at coUseWeight 0 forms no co-use group at all, as with co-use never reached (review, 12-07)', () => {
    const links = rotatingCell(300, 30, 7).concat(
      range(0, 10).map((a): Link => [a, 'device', 'd', 1]),
    );
    const off = build(input(300, links), { coUseWeight: 0 });
    const never = build(input(300, links), { coUseMinEvents: 1e9 });
    expect(build(input(300, links)).stats.coUseValues).toBeGreaterThan(0);
    expect([off.stats.coUseValues, off.stats.candidatePairs]).toEqual([
      0,
      never.stats.candidatePairs,
    ]);
    expect(weights(off)).toEqual(weights(never));
    expect(off.source.length).toBe(45); // the ten on the device
  });

  it('gives a pair that other evidence proposed, in no shared bucket, its whole co-use', () => {
    // The cell of 1,000 above, ten of them on one device too: all 45 pairs of the ten
    // are proposed by the device; those in no shared bucket get their co-use by the merge.
    const ten = range(0, 10);
    const links = rotatingCell(1000, 30, 7).concat(ten.map((a): Link => [a, 'device', 'dev-1', 1]));
    const g = weights(build(input(1000, links)));
    const whole = weights(build(input(1000, links), { coUseMaxExpandDegree: 1000 }));
    const deviceOnly = weights(build(input(1000, links), { coUseMinEvents: 1e9 }));
    const bucketsOnly = weights(build(input(1000, rotatingCell(1000, 30, 7))));
    let merged = 0;
    for (const a of ten)
      for (const b of ten) {
        if (a >= b) continue;
        const key = a * 100_000 + b;
        expect(g.get(key)).toBeCloseTo(whole.get(key) as number, 5);
        if (bucketsOnly.has(key)) continue;
        // no shared bucket: the co-use it has came through the merge
        if ((whole.get(key) as number) > (deviceOnly.get(key) as number) + 1e-6) merged++;
      }
    expect(merged).toBeGreaterThan(0);
  });

  it('pairs an oversize group within buckets: each pair once, the same buckets in every group', () => {
    const group = Int32Array.from(range(0, 900).map((a) => a * 3));
    const seen = new Set<number>();
    forPairsInBuckets(group, 6, 12345, (a, b) => {
      expect(a).toBeLessThan(b);
      expect(seen.has(a * 10_000 + b)).toBe(false);
      seen.add(a * 10_000 + b);
    });
    // two bucketings of 6 buckets of ~150: about 2 × 900² / 12 pairs, less the ~1/6 in both
    expect(seen.size).toBeGreaterThan(0.8 * ((900 * 900) / 6) * (11 / 12));
    expect(seen.size).toBeLessThan(1.2 * ((900 * 900) / 6) * (11 / 12));
    // another group with some of the same accounts (another subnet): the same pairs of them
    const part = group.filter((a) => a % 2 === 0);
    let again = 0;
    forPairsInBuckets(part, 6, 12345, (a, b) => {
      expect(seen.has(a * 10_000 + b)).toBe(true);
      again++;
    });
    let expected = 0;
    for (const key of seen)
      if (Math.floor(key / 10_000) % 2 === 0 && (key % 10_000) % 2 === 0) expected++;
    expect(again).toBe(expected);
  });

  it('does not link an office of 24 sending a framework prompt from one /24', () => {
    // Each on an IP of their own in the office /24, the prompt at 15 % of their traffic.
    const links: Link[] = [];
    for (const a of range(0, 24)) {
      links.push([a, 'prompt', FRAMEWORK, 15]);
      const own = ((BigInt(a + 7) * 0x9e3779b97f4a7c15n) & 0xffffffffffffffffn).toString(16);
      links.push([a, 'prompt', own.padStart(16, '0'), 85]);
      links.push(...net(a, `192.0.2.${a + 1}`, 100));
    }
    const g = build(input(24, links));
    expect(g.stats.coUseValues).toBe(0); // on one subnet each, they take no part (12-07)
    expect(g.source.length).toBe(0);
  });

  it('a pair only co-use proposed, short of coUseMinSubnets, is kept on no weakOnlyMin (review, 12-07)', () => {
    // 40 senders of one template (common: it proposes nothing), each from a /24 of its
    // own. Accounts 0–2 send it from one /24 they share and from three others' /24s each,
    // so they take part in co-use (four shared /24s), and co-use proposes their pairs
    // over the one /24 they share, which never counts. The template's and that /24's
    // evidence is common; at a weakOnlyMin of 0 those pairs were kept on it, with no
    // specific evidence at all.
    const links: Link[] = [];
    for (let a = 0; a < 40; a++) {
      links.push([a, 'prompt', TEMPLATE, 50]);
      links.push(...net(a, `10.${a}.0.${a + 1}`, 20));
      if (a >= 3) continue;
      links.push(...net(a, `10.99.0.${a + 1}`, 20));
      for (let s = 0; s < 3; s++) {
        const other = 3 + a * 3 + s;
        links.push(...net(a, `10.${other}.0.${a + 101}`, 20));
      }
    }
    for (const weakOnlyMin of [Infinity, 0, 0.001]) {
      const g = build(input(40, links), { weakOnlyMin });
      expect([weakOnlyMin, g.stats.coUseValues, g.stats.coUsePairs]).toEqual([weakOnlyMin, 1, 0]);
      expect([weakOnlyMin, g.source.length]).toEqual([weakOnlyMin, 0]);
    }
  });

  it('does not link a campus whose NAT pool spans three /24s (fewer than coUseMinSubnets)', () => {
    const links: Link[] = [];
    for (const a of range(0, 300)) {
      links.push([a, 'prompt', TEMPLATE, 10]);
      const own = ((BigInt(a + 1) * 0x9e3779b97f4a7c15n) & 0xffffffffffffffffn).toString(16);
      links.push([a, 'prompt', own.padStart(16, '0'), 40]);
      for (const ip of ['192.0.2.10', '192.0.3.11', '192.0.4.12']) links.push(...net(a, ip, 15));
    }
    const g = build(input(300, links));
    expect(g.stats.coUseValues).toBe(0); // on three subnets each, they take no part (12-07)
    expect(g.source.length).toBe(0);
    // Over four /24s the same students would be linked: the rule, not rarity, keeps them apart.
    const four = links.concat(range(0, 300).flatMap((a) => net(a, '192.0.5.13', 15)));
    expect(build(input(300, four)).source.length).toBeGreaterThan(0);
  });

  it('links every ring on exactly four /24s (the count of distinct subnets is exact)', () => {
    // 200 rings of 6, each on four /24s of its own, every account on its own card and
    // IPs; all rings send one template (so common that it proposes nothing): co-use is
    // their only link. With a subnet's bit taken from a 32-bit hash, four /24s shared a
    // bit ~17.7 % of the time and such a ring had no link at all (38 of these 200).
    const links: Link[] = [];
    const rings = range(0, 200).map((i) => range(i * 6, i * 6 + 6));
    for (const [i, ring] of rings.entries()) {
      const subnets = range(0, 4).map((k) => `10.${i >> 2}.${((i & 3) << 6) | k}`);
      for (const a of ring) {
        links.push([a, 'payment', `card-${a}`, 1]);
        links.push([a, 'prompt', TEMPLATE, 100]);
        for (const s of subnets) links.push(...net(a, `${s}.${(a % 6) + 1}`, 25));
      }
    }
    const g = build(input(1200, links));
    const missed = rings.filter((ring) =>
      ring.some((a) => neighbours(g, a).join() !== ring.filter((b) => b !== a).join()),
    );
    expect(missed.map((ring) => (ring[0] as number) / 6)).toEqual([]); // rings missed
  });

  it('does not link a campus: 300 students on a course template behind one NAT /24', () => {
    const links: Link[] = [];
    for (const a of range(0, 300)) {
      links.push([a, 'prompt', TEMPLATE, 10]); // a fifth of their prompts
      // and their own questions (scattered fingerprints, none near another)
      const own = ((BigInt(a + 1) * 0x9e3779b97f4a7c15n) & 0xffffffffffffffffn).toString(16);
      links.push([a, 'prompt', own.padStart(16, '0'), 40]);
      for (const ip of ['192.0.2.10', '192.0.2.11', '192.0.2.12']) links.push(...net(a, ip, 15));
    }
    const g = build(input(300, links));
    expect(g.stats.coUseValues).toBe(0); // on one subnet each, they take no part (12-07)
    expect(g.source.length).toBe(0);
  });
});

describe('coUseGroups', () => {
  it('keeps at most coUseMaxPerKind templates (the busiest) and subnets (the same sample for all) per account', () => {
    // One account pair sharing 3 templates × 3 subnets; with a cap of 2, 2 × 2 groups.
    // The two rank the subnets by traffic the other way round.
    const links: Link[] = [];
    for (const a of [0, 1]) {
      // listed quietest first: the busiest must win, not the first seen
      for (const [t, c] of [
        ['1111111111111111', 10],
        ['2222222222222222', 20],
        ['3333333333333333', 30],
      ] as const)
        links.push([a, 'prompt', t, c]);
      for (const [ip, c] of [
        ['10.0.0.1', 10],
        ['10.1.0.1', 20],
        ['10.2.0.1', 30],
      ] as const)
        links.push(...net(a, ip, a === 0 ? c : 40 - c));
    }
    // coUseMinSubnets 1: on three subnets, the pair would otherwise take no part
    const full = build(input(2, links), { coUseMaxPerKind: 8, coUseMinSubnets: 1 });
    const capped = build(input(2, links), { coUseMaxPerKind: 2, coUseMinSubnets: 1 });
    expect(full.stats.coUseValues).toBe(9);
    expect(capped.stats.coUseValues).toBe(4);
    // With a cap of 1: the busiest template, 3333…, and one subnet, the same for both
    // though each sends most from another (kept by traffic, they would share none).
    const one = build(input(2, links), { coUseMaxPerKind: 1, coUseMinSubnets: 1 });
    expect(one.stats.coUseValues).toBe(1);
    const template3 = links.filter(([, k, v]) => k !== 'prompt' || v === '3333333333333333');
    expect(
      build(input(2, template3), { coUseMaxPerKind: 1, coUseMinSubnets: 1 }).stats.coUseValues,
    ).toBe(1);
  });

  it('links a cell rotating over more subnets than the cap, whatever its traffic per subnet (review, 12-05)', () => {
    // 20 accounts, one template, each using every /24 of its cell with 20–29 requests on
    // each. Kept by traffic, each member's busiest 8 of 30 differed, and only 19 of the
    // 190 pairs had co-use over 4 subnets or more.
    const next = rng(30);
    for (const subnets of [16, 20, 30]) {
      const links: Link[] = [];
      for (let a = 0; a < 20; a++) {
        links.push([a, 'prompt', TEMPLATE, 500]);
        for (let s = 0; s < subnets; s++)
          links.push(...net(a, `198.51.${s}.${a + 1}`, 20 + Math.floor(next() * 10)));
      }
      expect([subnets, build(input(20, links)).stats.coUsePairs]).toEqual([subnets, 190]);
    }
  });

  it('returns each group with its members ascending, and only groups of two or more', () => {
    // Values 0 (prompt) and 1, 2 (subnets): accounts 1, 2, 3 use 0 and 1; account 0 uses
    // 0 and 2 alone (a key of one account, dropped).
    const vm = {
      start: Int32Array.from([0, 4, 7, 9]),
      degree: Int32Array.from([4, 3, 2]),
      members: Int32Array.from([0, 1, 2, 3, 1, 2, 3, 0, 9]),
      events: Float32Array.from([50, 50, 50, 50, 50, 50, 50, 50, 0]),
    };
    const totals = () => 50;
    const groups = coUseGroups(
      10,
      vm,
      (v) => v === 0,
      (v) => v !== 0,
      totals,
      totals,
      { ...DEFAULTS.build, coUseMinSubnets: 1 }, // one subnet each here
    );
    expect(groups.count).toBe(1);
    expect([...groups.subnet]).toEqual([1]);
    expect([...groups.members.subarray(groups.start[0], groups.start[1])]).toEqual([1, 2, 3]);
  });

  it('puts nobody in a group through the templates an account had beyond coUseMaxPerKind', () => {
    // Accounts 1 and 2 each send templates 0, 1, 2 (30, 20, 10 events) from subnet 3;
    // with a cap of 1 only template 0 is theirs. Account 0 uses subnet 3 and no template
    // (the entries left past the kept ones used to count as account 0's templates).
    const vm = {
      start: Int32Array.from([0, 2, 4, 6, 9]),
      degree: Int32Array.from([2, 2, 2, 3]),
      members: Int32Array.from([1, 2, 1, 2, 1, 2, 0, 1, 2]),
      events: Float32Array.from([30, 30, 20, 20, 10, 10, 60, 60, 60]),
    };
    const totals = () => 60;
    const groups = coUseGroups(
      3,
      vm,
      (v) => v < 3,
      (v) => v === 3,
      totals,
      totals,
      {
        ...DEFAULTS.build,
        coUseMaxPerKind: 1,
        coUseMinSubnets: 1,
      },
    );
    expect(groups.count).toBe(1);
    expect([...groups.subnet]).toEqual([3]);
    expect([...groups.members]).toEqual([1, 2]);
  });

  it('leaves out accounts on fewer than coUseMinSubnets subnets: no pair of theirs could count (review, 12-07)', () => {
    // Template 0; subnets 1, 2, 3. Accounts 0 and 1 use all three, account 2 only subnet 1.
    const vm = {
      start: Int32Array.from([0, 3, 6, 8, 10]),
      degree: Int32Array.from([3, 3, 2, 2]),
      members: Int32Array.from([0, 1, 2, 0, 1, 2, 0, 1, 0, 1]),
      events: Float32Array.from([60, 60, 60, 20, 20, 60, 20, 20, 20, 20]),
    };
    const totals = () => 60;
    const grouped = (coUseMinSubnets: number) => {
      const g = coUseGroups(
        3,
        vm,
        (v) => v === 0,
        (v) => v > 0,
        totals,
        totals,
        {
          ...DEFAULTS.build,
          coUseMinSubnets,
        },
      );
      return Array.from({ length: g.count }, (_, i) => [
        g.subnet[i],
        [...g.members.subarray(g.start[i], g.start[i + 1])],
      ]);
    };
    expect(grouped(1)).toEqual([
      [1, [0, 1, 2]],
      [2, [0, 1]],
      [3, [0, 1]],
    ]);
    expect(grouped(3)).toEqual([
      [1, [0, 1]],
      [2, [0, 1]],
      [3, [0, 1]],
    ]);
    expect(grouped(4)).toEqual([]);
  });

  it('a group keeps the rarity and buckets of all its senders, members or not (review, 12-07)', () => {
    // A ring of ten on four /24s, each /24 also carrying 300 heavy senders of the ring's
    // template on that /24 alone: those are no members (one subnet each), but the value is
    // shared by 310, so it weighs and is bucketed as one of 310. Counted by its members, it
    // weighed as one of 10 and was expanded whole: 45 of 45 pairs, where the code before
    // the members were narrowed gave 21 (d4bb1fc, checked by the review's script).
    const links: Link[] = [];
    let a = 0;
    for (let r = 0; r < 10; r++, a++) {
      links.push([a, 'payment', `card-${a}`, 1], [a, 'prompt', TEMPLATE, 100]);
      for (let s = 0; s < 4; s++) links.push(...net(a, `203.0.${s}.${r + 1}`, 25));
    }
    for (let s = 0; s < 4; s++)
      for (let c = 0; c < 300; c++, a++) {
        links.push([a, 'payment', `card-${a}`, 1], [a, 'prompt', TEMPLATE, 50]);
        links.push(...net(a, `203.0.${s}.${100 + (c % 150)}`, 50));
      }
    const g = build(input(a, links));
    expect([g.stats.coUseValues, g.stats.coUseValuesBucketed]).toEqual([4, 4]);
    expect(g.stats.coUsePairs).toBeGreaterThan(0);
    expect(g.stats.coUsePairs).toBeLessThan(45);
  });

  it('one egress of many heavy senders of one template proposes no pairs (review, 12-07)', () => {
    // A SaaS tenant's 600 users behind one /48 (an address each), all sending its
    // template: co-use could never count for them (one subnet each), and proposed ~100
    // pairs a member. Nothing else proposes: the template and the /48 are common.
    const links: LinkRow[] = [];
    for (let a = 0; a < 600; a++) {
      links.push([a, 'prompt', TEMPLATE, 40]);
      links.push(...net(a, `2001:db8:1::${(a + 1).toString(16)}`, 40));
    }
    const { stats } = build(input(600, links));
    expect(stats.coUseValues).toBe(0);
    expect(stats.candidatePairs).toBe(0);
    expect(stats.edges).toBe(0);
  });
});
