/**
 * Co-activity (src/linkage/co-activity.ts through build): a cell on cards of its own,
 * every prompt its own (paraphrased apart), is linked when its members work the same
 * hours through the same proxy subnets; a proxy's customers, a carrier's NAT users and
 * a cell over too few subnets are not.
 */
import { subnetOf } from '../../../src/ingest/subnet';
import { build } from '../../../src/linkage/build';
import { coActivity } from '../../../src/linkage/co-activity';
import { detect } from '../../../src/linkage/detect';
import type { HourSeries, LinkageGraph, LinkageInput } from '../../../src/linkage/types';
import { DEFAULTS } from '../../../src/linkage/weights';
import { type LinkRow, linksInput, neighbours, rng } from './fixtures';

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
const H0 = 494_000; // an epoch hour in 2026

function net(a: number, ip: string, count: number): LinkRow[] {
  return [
    [a, 'ip', ip, count],
    [a, 'subnet', subnetOf(ip), count],
  ];
}

function series(hours: number[]): HourSeries {
  const keys = [...new Set(hours)].sort((x, y) => x - y);
  return { keys, counts: keys.map(() => 3) };
}

/** linksInput, with each account's active hours. */
function withHours(n: number, links: LinkRow[], hours: (a: number) => number[]): LinkageInput {
  const input = linksInput(n, links);
  input.accounts.forEach((acc, a) => (acc.hours = series(hours(a))));
  return input;
}

/** `k` hours drawn from `pool` by `r`. */
function draw(pool: number[], k: number, r: () => number): number[] {
  const copy = [...pool];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as number, copy[i] as number];
  }
  return copy.slice(0, k);
}

/**
 * A cell of `cell` accounts on cards of their own, each prompt its own, over `proxies`,
 * each member in 80 % of 120 wave hours; proxy customers on four of the proxies (half
 * their traffic) and their home IP, in 60 hours of their own over a month of days;
 * carrier users spread evenly over 10 carrier /24s (`carrierSubnets`), 60 daytime hours of
 * their own each. A cell member sends 100 requests over its proxies (`perProxy` each).
 */
function world(o: {
  cell: number[];
  proxies: string[];
  customers: number[];
  carrier: number[];
  perProxy?: number;
  carrierSubnets?: number;
  /** wave hours each cell member is active in (of 120) */
  waveHours?: number;
}) {
  const r = rng(7);
  const waves = range(0, 120).map((i) => H0 + i * 6);
  const month = range(0, 30 * 24).map((i) => H0 + i);
  const daytime = month.filter((h) => h % 24 >= 8 && h % 24 < 20);
  const links: LinkRow[] = [];
  const hours = new Map<number, number[]>();
  for (const a of o.cell) {
    links.push([a, 'payment', `card-${a}`, 1]);
    for (let p = 0; p < 5; p++) links.push([a, 'prompt', `${a}-${p}`, 20]);
    const perProxy = o.perProxy ?? Math.round(100 / o.proxies.length);
    for (const ip of o.proxies) links.push(...net(a, ip, perProxy));
    hours.set(a, draw(waves, o.waveHours ?? 96, r));
  }
  for (const a of o.customers) {
    links.push([a, 'payment', `card-${a}`, 1]);
    for (let k = 0; k < 4; k++)
      links.push(...net(a, o.proxies[(a + k) % o.proxies.length] as string, 10));
    links.push(...net(a, `192.0.${a >> 8}.${a & 255}`, 40));
    hours.set(a, draw(month, 60, r));
  }
  for (const a of o.carrier) {
    links.push([a, 'payment', `card-${a}`, 1]);
    for (let s = 0; s < (o.carrierSubnets ?? 10); s++)
      links.push(...net(a, `100.64.${s}.${1 + (a % 200)}`, 10));
    hours.set(a, draw(daytime, 60, r));
  }
  return { links, hours: (a: number) => hours.get(a) ?? [] };
}

describe('co-activity links', () => {
  const cell = range(0, 30);
  const customers = range(30, 230);
  const carrier = range(230, 430);
  const proxies = range(0, 6).map((i) => `203.0.${113 + i}.${10 + i}`);
  const w = world({ cell, proxies, customers, carrier });
  const input = withHours(430, w.links, w.hours);

  it('link a cell on its own cards and prompts through its hours and proxy subnets, and nobody else', () => {
    const g = build(input);
    // every account has ≥ 4 subnets and ≥ 6 hours: all take part
    expect(g.stats.coActivityAccounts).toBe(430);
    for (const a of cell) {
      const near = neighbours(g, a);
      expect(near.length).toBeGreaterThan(0);
      expect(near.every((b) => cell.includes(b))).toBe(true);
    }
    for (const a of [...customers, ...carrier]) expect(neighbours(g, a)).toEqual([]);
    const d = detect(g);
    const c = d.community[0] as number;
    expect(c).toBeGreaterThanOrEqual(0);
    expect(cell.every((a) => d.community[a] === c)).toBe(true);
  });

  it('links a cell whose 100 proxies each sit in a /24 of their own (1 % of its traffic a /24) at the defaults, not at the 2 % of before 12-07', () => {
    const spreadCell = range(0, 30);
    // the benign side: carrier users over 100 /24s of a pool (1 % each), in hours of their own
    const spreadCarrier = range(30, 130);
    const w = world({
      cell: spreadCell,
      proxies: range(0, 100).map((i) => `198.18.${i}.7`),
      perProxy: 10,
      customers: [],
      carrier: spreadCarrier,
      carrierSubnets: 100,
    });
    const spread = withHours(130, w.links, w.hours);
    const g = build(spread);
    for (const a of spreadCell) {
      const near = neighbours(g, a);
      expect(near.length).toBeGreaterThan(0);
      expect(near.every((b) => spreadCell.includes(b))).toBe(true);
    }
    for (const a of spreadCarrier) expect(neighbours(g, a)).toEqual([]);
    const before = build(spread, { coUseMinSubnetShare: 0.02 });
    expect(before.stats.coActivityAccounts).toBe(0);
    expect(before.source.length).toBe(0);
  });

  it('without co-activity (no bands, or a weight of 0) the same cell has no link at all', () => {
    for (const off of [{ coActivityBands: 0 }, { coActivityWeight: 0 }]) {
      const g = build(input, off);
      expect(g.stats.coActivityAccounts).toBe(0);
      for (const a of cell) expect(neighbours(g, a)).toEqual([]);
    }
  });

  it('keeps a pair whose co-activity parts sit exactly at corroborationMin (no Float32 rounding below it)', () => {
    const g = build(input, {
      corroborationMin: 0.35,
      coActivityWeight: 0.35,
      kindWeight: { ...DEFAULTS.build.kindWeight, subnet: 0.35 },
    });
    for (const a of cell) expect(neighbours(g, a).length).toBeGreaterThan(0);
  });

  it('needs both: the same hours over three subnets, or four subnets in hours of their own, do not link', () => {
    const few = world({ cell, proxies: proxies.slice(0, 3), customers: [], carrier: [] });
    const g = build(withHours(30, few.links, few.hours));
    for (const a of cell) expect(neighbours(g, a)).toEqual([]);
    const r = rng(3);
    const month = range(0, 30 * 24).map((i) => H0 + i);
    const apart = build(
      withHours(
        30,
        w.links.filter(([a]) => a < 30),
        () => draw(month, 96, r),
      ),
    );
    expect(apart.stats.coActivityAccounts).toBe(30);
    for (const a of cell) expect(neighbours(apart, a)).toEqual([]);
  });

  it("links an outsider whose every hour falls in the cell's busy hours, over four of its subnets (hour resolution's edge, SIGNALS.md)", () => {
    // 60 of the cell's 120 wave hours, a card of its own, four of the proxies: at hour
    // resolution this is what a member looks like, and it is linked like one.
    const r = rng(99);
    const waves = range(0, 120).map((i) => H0 + i * 6);
    const outsider = 430;
    const links: LinkRow[] = [...w.links, [outsider, 'payment', 'card-outsider', 1]];
    for (let k = 0; k < 4; k++) links.push(...net(outsider, proxies[k] as string, 10));
    const hours = draw(waves, 60, r);
    const g = build(withHours(431, links, (a) => (a === outsider ? hours : w.hours(a))));
    const near = neighbours(g, outsider);
    expect(near.length).toBeGreaterThan(0);
    expect(near.every((b) => cell.includes(b))).toBe(true);
  });

  it('links a cell of 500 working identical hours, its band groups too big to expand (stars), as one community', () => {
    const big = range(0, 500);
    const links: LinkRow[] = [];
    for (const a of big) {
      links.push([a, 'payment', `card-${a}`, 1]);
      for (const ip of proxies) links.push(...net(a, ip, 20));
    }
    const same = range(0, 80).map((i) => H0 + 3 * i);
    const g = build(withHours(500, links, () => same));
    // a star per band, not the 124,750 pairs
    expect(g.stats.coActivityFound).toBeLessThanOrEqual(8 * 499);
    const d = detect(g);
    expect(big.every((a) => d.community[a] === d.community[0])).toBe(true);
    expect(d.community[0]).toBeGreaterThanOrEqual(0);
  });

  it('gives a pair other evidence proposed its co-activity even where the banding missed it', () => {
    // Two accounts per card: each such pair is proposed by the card; with one band the
    // banding finds few pairs, yet every carded pair gets the same weight as with eight.
    const links = w.links.map((l): LinkRow =>
      l[1] === 'payment' && l[0] < 30 ? [l[0], 'payment', `card-${l[0] >> 1}`, 1] : l,
    );
    const inp = withHours(430, links, w.hours);
    const one = build(inp, { coActivityBands: 1 });
    const eight = build(inp, { coActivityBands: 8 });
    const none = build(inp, { coActivityBands: 0 });
    expect(one.stats.coActivityFound).toBeLessThan(eight.stats.coActivityFound as number);
    const weightOf = (g: LinkageGraph, a: number, b: number) => {
      for (let e = 0; e < g.source.length; e++)
        if (g.source[e] === a && g.target[e] === b) return g.weight[e];
      return undefined;
    };
    for (let a = 0; a < 30; a += 2) {
      expect(weightOf(one, a, a + 1)).toBe(weightOf(eight, a, a + 1));
      // and co-activity did add to it (the pair's hours overlap by about two thirds)
      expect(weightOf(eight, a, a + 1)).toBeGreaterThan(weightOf(none, a, a + 1) as number);
    }
  });

  it('gives every co-active pair its edge, also those found while the pair table grows (review, 12-06)', () => {
    // Only co-activity links these 100 (an address of its own in each of 5 /24s, the
    // same 24 hours): 4,950 pairs, more than the table's first 1,024 slots. The pair
    // that grew it lost its evidence (one per doubling: 4,947 edges).
    const n = 100;
    const links: LinkRow[] = [];
    for (let a = 0; a < n; a++)
      for (let k = 0; k < 5; k++) links.push(...net(a, `198.18.${k}.${a + 1}`, 20));
    const same = range(0, 24).map((i) => H0 + i);
    const g = build(withHours(n, links, () => same));
    expect(g.stats.coActivityFound).toBe((n * (n - 1)) / 2);
    expect(g.source.length).toBe((n * (n - 1)) / 2);
  });

  it("a pair only co-activity proposes gets the co-use of a bucketed group too: a cell's edges weigh the same (review, 12-06)", () => {
    // 400 identical members: one template over 6 proxy /48s, each through an address of
    // its own, the same hours. The co-use groups (400 > 200) are bucketed, so co-activity
    // proposes pairs no bucket holds; they missed the template's co-use and weighed half.
    const n = 400;
    const links: LinkRow[] = [];
    for (let a = 0; a < n; a++) {
      links.push([a, 'payment', `card-${a}`, 1]);
      links.push([a, 'prompt', 'a1b2c3d4e5f60718', 100]);
      for (let k = 0; k < 6; k++)
        links.push(...net(a, `2001:db8:${k + 1}::${(a + 1).toString(16)}`, 20));
    }
    const same = range(0, 24).map((i) => H0 + i);
    const g = build(withHours(n, links, () => same));
    expect(g.stats.coUseValuesBucketed).toBe(6);
    expect(g.stats.coActivityFound).toBeGreaterThan(0);
    const weights = new Set(Array.from(g.weight, (x) => x.toFixed(4)));
    expect([...weights]).toHaveLength(1);
  });
});

describe('co-activity by sign-up batch', () => {
  // A light cell: 30 members on cards and prompts of their own over 8 proxies, each /24
  // its own, each member in 12 of the cell's 120 wave hours (hours Jaccard ~0.05, far
  // under 0.3), all signed up within 2.5 hours. 100 VPN users over the same 8 exits, in
  // hours of their own, signed up 41 hours apart from one another.
  const T = Date.UTC(2026, 0, 10);
  const HOUR = 3_600_000;
  const cell = range(0, 30);
  const vpn = range(30, 130);
  const exits = range(0, 8).map((i) => `203.0.${113 + i}.9`);
  function batchWorld(o: { secondCell?: number[]; spreadCell?: boolean } = {}) {
    const light = world({
      cell,
      proxies: exits,
      perProxy: 12,
      waveHours: 12,
      customers: [],
      carrier: [],
    });
    const r = rng(21);
    const waves = range(0, 120).map((i) => H0 + i * 6);
    const month = range(0, 30 * 24).map((i) => H0 + i);
    const links: LinkRow[] = [...light.links];
    const hours = new Map<number, number[]>(cell.map((a) => [a, light.hours(a)]));
    const signup = new Map<number, number>();
    for (const a of cell) signup.set(a, o.spreadCell ? T + a * 41 * HOUR : T + a * 5 * 60_000);
    for (const a of vpn) {
      links.push([a, 'payment', `card-${a}`, 1]);
      for (const ip of exits) links.push(...net(a, ip, 12));
      hours.set(a, draw(month, 40, r));
      signup.set(a, T + 30 * 24 * HOUR + (a - 30) * 41 * HOUR);
    }
    // another cell signed up in the same hours on 4 of the 8 exits and 4 of its own, in
    // waves of its own (so that only the sign-up rule could join the two)
    const otherWaves = waves.map((h) => h + 3);
    for (const a of o.secondCell ?? []) {
      links.push([a, 'payment', `card-${a}`, 1]);
      for (const ip of [...exits.slice(0, 4), ...range(0, 4).map((i) => `198.51.${100 + i}.9`)])
        links.push(...net(a, ip, 12));
      hours.set(a, draw(otherWaves, 12, r));
      signup.set(a, T + 3 * 60_000 + (a % 30) * 5 * 60_000);
    }
    const n = 130 + (o.secondCell?.length ?? 0);
    const input = withHours(n, links, (a) => hours.get(a) ?? []);
    input.accounts.forEach((acc, a) => (acc.signupAt = signup.get(a) ?? null));
    return input;
  }

  it('links a light cell signed up in one batch over the same proxies, and nobody else', () => {
    const input = batchWorld();
    const g = build(input);
    for (const a of cell) {
      const near = neighbours(g, a);
      expect(near.length).toBeGreaterThan(0);
      expect(near.every((b) => cell.includes(b))).toBe(true);
    }
    for (const a of vpn) expect(neighbours(g, a)).toEqual([]);
    const d = detect(g);
    const c = d.community[0] as number;
    expect(c).toBeGreaterThanOrEqual(0);
    expect(cell.every((a) => d.community[a] === c)).toBe(true);
  });

  it('does not link the cell with the rule off, or with its sign-ups spread over weeks', () => {
    const off = build(batchWorld(), { coSignupWindowHours: 0 });
    for (const a of cell) expect(neighbours(off, a)).toEqual([]);
    const spread = build(batchWorld({ spreadCell: true }));
    for (const a of cell) expect(neighbours(spread, a)).toEqual([]);
  });

  it('does not join two cells signed up in the same hours that share 4 of their 8 subnets', () => {
    const second = range(130, 160);
    const g = build(batchWorld({ secondCell: second }));
    for (const a of cell) expect(neighbours(g, a).every((b) => cell.includes(b))).toBe(true);
    for (const a of second) expect(neighbours(g, a).every((b) => second.includes(b))).toBe(true);
    // at coSignupMinSubnets 4 they would
    const loose = build(batchWorld({ secondCell: second }), { coSignupMinSubnets: 4 });
    expect(cell.some((a) => neighbours(loose, a).some((b) => second.includes(b)))).toBe(true);
  });
});

describe('coActivity', () => {
  const opts = {
    coUseMinSubnets: 4,
    coActivityBands: 8,
    coActivityWeight: 0.25,
    coActivityMinHours: 6,
    coActivityMinJaccard: 0.3,
    coSignupWindowHours: 0,
    coSignupMinSubnets: 6,
    seed: 42,
  };
  const noSignup = () => null;

  it('finds only pairs that pass the exact rule, and most of those brute force finds', () => {
    // 300 accounts over 6 subnets in random hours of 100, of varied overlap.
    const r = rng(11);
    const n = 300;
    const start = Int32Array.from(range(0, n + 1).map((a) => a * 6));
    const value = Int32Array.from(range(0, n * 6).map((x) => (x % 6) + (Math.floor(x / 6) % 2)));
    const pool = range(0, 100).map((i) => H0 + i);
    const hours = range(0, n).map((a) => draw(pool.slice(0, 40 + (a % 60)), 12 + (a % 30), r));
    const found = coActivity(
      n,
      { start, value },
      (a) => series(hours[a] as number[]),
      noSignup,
      opts,
      DEFAULTS.build.coUseMaxExpandDegree,
    );
    const brute = new Set<number>();
    for (let a = 0; a < n; a++)
      for (let b = a + 1; b < n; b++) if (found.check(a, b) > 0) brute.add(a * n + b);
    const got = new Set(
      range(0, found.a.length).map((x) => (found.a[x] as number) * n + (found.b[x] as number)),
    );
    expect(brute.size).toBeGreaterThan(500);
    for (const k of got) expect(brute.has(k)).toBe(true);
    // each pair found once, ascending by (a, b), a < b
    expect(got.size).toBe(found.a.length);
    for (let x = 0; x < found.a.length; x++) {
      expect(found.a[x] as number).toBeLessThan(found.b[x] as number);
      if (x > 0)
        expect((found.a[x - 1] as number) * n + (found.b[x - 1] as number)).toBeLessThan(
          (found.a[x] as number) * n + (found.b[x] as number),
        );
    }
    // the banding finds a pair of Jaccard J with probability 1 − (1 − J²)^8: ≥ 0.53 here
    expect(got.size / brute.size).toBeGreaterThan(0.6);
    expect(found.candidates).toBeLessThan((n * (n - 1)) / 2 / 2);
  });

  it('does not pair accounts with alike hours on subnets of their own (review, 12-07)', () => {
    // Keyed on hours alone, the banding made every two accounts with alike hours
    // candidates, subnets or not: here ~8 bands × 2,000 of them, none co-active.
    const r = rng(5);
    const n = 2000;
    const start = Int32Array.from(range(0, n + 1).map((a) => a * 4));
    const value = Int32Array.from(range(0, n * 4)); // four subnets each, shared with no one
    const pool = range(0, 50).map((i) => H0 + i);
    const hours = range(0, n).map(() => draw(pool, 40, r)); // Jaccard ~0.6 between any two
    const alone = coActivity(
      n,
      { start, value },
      (a) => series(hours[a] as number[]),
      noSignup,
      opts,
      DEFAULTS.build.coUseMaxExpandDegree,
    );
    expect([alone.candidates, alone.a.length]).toEqual([0, 0]);
    // the same hours over four subnets they all share: candidates again, and pairs
    const shared = coActivity(
      n,
      { start, value: Int32Array.from(range(0, n * 4).map((x) => x % 4)) },
      (a) => series(hours[a] as number[]),
      noSignup,
      opts,
      DEFAULTS.build.coUseMaxExpandDegree,
    );
    expect(shared.candidates).toBeGreaterThan(n);
    expect(shared.a.length).toBeGreaterThan(n);
  });

  it('finds every pair signed up within the window on enough shared subnets (the two grids)', () => {
    // 400 accounts, each on 8 of 12 subnets, in 10 random hours of 2,000 (hours almost
    // never reach the Jaccard index), signed up at random over 20 days.
    const r = rng(17);
    const n = 400;
    const subnetLists = range(0, n).map(() => draw(range(0, 12), 8, r).sort((x, y) => x - y));
    const start = Int32Array.from(range(0, n + 1).map((a) => a * 8));
    const value = Int32Array.from(subnetLists.flat());
    const pool = range(0, 2000).map((i) => H0 + i);
    const hours = range(0, n).map(() => draw(pool, 10, r));
    const signups = range(0, n).map(() => Math.floor(r() * 20 * 24 * 3_600_000));
    const found = coActivity(
      n,
      { start, value },
      (a) => series(hours[a] as number[]),
      (a) => signups[a] as number,
      { ...opts, coSignupWindowHours: 6 },
      DEFAULTS.build.coUseMaxExpandDegree,
    );
    const got = new Set(
      range(0, found.a.length).map((x) => (found.a[x] as number) * n + (found.b[x] as number)),
    );
    let batchPairs = 0;
    for (let a = 0; a < n; a++)
      for (let b = a + 1; b < n; b++) {
        const shared = (subnetLists[a] as number[]).filter((x) =>
          (subnetLists[b] as number[]).includes(x),
        ).length;
        const near = Math.abs((signups[a] as number) - (signups[b] as number)) <= 6 * 3_600_000;
        if (shared >= 6 && near) {
          batchPairs++;
          expect(found.check(a, b)).toBeGreaterThan(0);
          expect(got.has(a * n + b)).toBe(true);
        }
      }
    expect(batchPairs).toBeGreaterThan(100);
    // an unknown sign-up meets nobody by it
    const unknown = coActivity(
      n,
      { start, value },
      (a) => series(hours[a] as number[]),
      () => null,
      { ...opts, coSignupWindowHours: 6 },
      DEFAULTS.build.coUseMaxExpandDegree,
    );
    expect(unknown.a.length).toBeLessThan(found.a.length / 10);
  });

  it('the exact rule: shared subnets, hours and their Jaccard index', () => {
    const start = Int32Array.from([0, 4, 8, 11]);
    const value = Int32Array.from([1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3]);
    const h = range(0, 10).map((i) => H0 + i);
    const hours = [h, [...h.slice(0, 7), H0 + 20, H0 + 21, H0 + 22], h];
    const r = coActivity(
      3,
      { start, value },
      (a) => series(hours[a] as number[]),
      noSignup,
      opts,
      200,
    );
    // 7 of 13 hours in common: 0.538; account 2 has three subnets only
    expect(r.check(0, 1)).toBeCloseTo(7 / 13, 10);
    expect(r.check(0, 2)).toBe(0);
    expect(r.hours.start[3]).toBe(r.hours.start[2]);
    expect(
      coActivity(
        3,
        { start, value },
        (a) => series(hours[a] as number[]),
        noSignup,
        { ...opts, coActivityMinJaccard: 0.6 },
        200,
      ).check(0, 1),
    ).toBe(0);
    // fewer than coActivityMinHours active hours: no part
    const short = coActivity(3, { start, value }, () => series(h.slice(0, 5)), noSignup, opts, 200);
    expect(short.hours.value.length).toBe(0);
  });

  it('is the same for the same input and seed, and ignores the order of a series', () => {
    const start = Int32Array.from(range(0, 41).map((a) => a * 4));
    const value = Int32Array.from(range(0, 160).map((x) => x % 4));
    const r = rng(5);
    const pool = range(0, 50).map((i) => H0 + i);
    const hours = range(0, 40).map(() => draw(pool, 20, r));
    const run = (reverse: boolean) =>
      coActivity(
        40,
        { start, value },
        (a) => {
          const s = series(hours[a] as number[]);
          return reverse ? { keys: [...s.keys].reverse(), counts: [...s.counts].reverse() } : s;
        },
        noSignup,
        opts,
        200,
      );
    const x = run(false);
    const y = run(true);
    expect(Array.from(y.a)).toEqual(Array.from(x.a));
    expect(Array.from(y.b)).toEqual(Array.from(x.b));
    expect(x.a.length).toBeGreaterThan(0);
    // the sort used past 2^21 accounts taking part (by comparison) gives the same pairs
    const bySort = coActivity(
      40,
      { start, value },
      (a) => series(hours[a] as number[]),
      noSignup,
      opts,
      200,
      0,
    );
    expect(Array.from(bySort.a)).toEqual(Array.from(x.a));
    expect(Array.from(bySort.b)).toEqual(Array.from(x.b));
    expect(bySort.candidates).toBe(x.candidates);
  });

  it('gives the same pairs by its comparison sort as by the packed one, on groups whole and starred (review, 12-07)', () => {
    // Past 2^21 accounts taking part the keys are sorted by comparison: the same order,
    // so the same groups, subnet groups, pairs and stars.
    const r = rng(8);
    const n = 3000;
    const start = Int32Array.from(range(0, n + 1).map((a) => a * 6));
    const value = Int32Array.from(
      range(0, n * 6).map((x) => (x % 6) + 2 * (Math.floor(x / 6) % 3)),
    );
    const pools = range(0, 3).map((p) => range(0, 40).map((i) => H0 + 100 * p + i));
    const hours = range(0, n).map((a) => draw(pools[a % 3] as number[], 30, r));
    const run = (packLimit: number) =>
      coActivity(
        n,
        { start, value },
        (a) => series(hours[a] as number[]),
        noSignup,
        opts,
        50,
        packLimit,
      );
    const packed = run(2 ** 21);
    const radix = run(0);
    expect(packed.a.length).toBeGreaterThan(n);
    expect(Array.from(radix.a)).toEqual(Array.from(packed.a));
    expect(Array.from(radix.b)).toEqual(Array.from(packed.b));
    expect(radix.candidates).toBe(packed.candidates);
  });
});
