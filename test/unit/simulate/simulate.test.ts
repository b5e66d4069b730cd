// Unit tests for the campaign simulator: determinism, contract validity, population and
// traffic shape, the coding campaign's pivot, near-duplicate prompt pools, truth coverage.
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { eventSchema } from '../../../src/ingest/event-schema';
import { canonicalIp, subnetOf } from '../../../src/ingest/subnet';
import { hammingHex, simhash } from '../../../src/ingest/simhash';
import { Generator } from '../../../src/simulate/generate';
import { WEBMAIL } from '../../../src/simulate/identity';
import { simulate } from '../../../src/simulate';
import { DEFAULTS, type SimParams, effectiveParams } from '../../../src/simulate/params';
import {
  buildPopulation,
  dayFactor,
  firstRequestMs,
  shareOfDayFrom,
  weekFactor,
} from '../../../src/simulate/population';

jest.setTimeout(120_000);

const DAY = 86_400_000;
const HOUR = 3_600_000;

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'coterie-sim-'));
  dirs.push(d);
  return d;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** When the new model is released, as the simulator places it. */
function releaseMsOf(p: ReturnType<typeof effectiveParams>): number {
  return Date.parse(`${p.startDate}T00:00:00Z`) + p.releaseDay * DAY + p.releaseHourUtc * HOUR;
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

interface Run {
  lines: string[];
  truth: Map<string, { group: string; kind: string }>;
  truthRows: string[];
  result: Awaited<ReturnType<typeof simulate>>;
}

async function run(
  scale: number,
  seed: number,
  extra: Partial<Parameters<typeof simulate>[0]> = {},
) {
  const outDir = tmp();
  const result = await simulate({ scale, seed, outDir, ...extra });
  const raw = readFileSync(result.files.events);
  const text = (extra.gzip ? gunzipSync(raw) : raw).toString('utf8');
  const lines = text.split('\n').filter((l) => l.length > 0);
  const truthRows = readFileSync(result.files.truth, 'utf8').trim().split('\n').slice(1);
  const truth = new Map<string, { group: string; kind: string }>();
  for (const row of truthRows) {
    const [id, group, kind] = row.split(',');
    truth.set(id as string, { group: group as string, kind: kind as string });
  }
  const r: Run = { lines, truth, truthRows, result };
  return r;
}

describe('simulate', () => {
  let small: Run;
  const progress: { day: number; days: number; events: number }[] = [];
  beforeAll(async () => {
    small = await run(0.01, 7, { onProgress: (p) => progress.push(p) });
  });

  it('is deterministic: same seed gives byte-identical files, another seed does not', async () => {
    const a = small.result.files;
    const b = (await run(0.01, 7)).result.files;
    const c = (await run(0.01, 8)).result.files;
    for (const k of ['events', 'truth', 'params'] as const) {
      expect(sha256(b[k])).toBe(sha256(a[k]));
    }
    expect(sha256(c.events)).not.toBe(sha256(a.events));
    expect(sha256(c.truth)).not.toBe(sha256(a.truth));
  });

  it('writes only events valid against the public schema, in time order', () => {
    let prev = '';
    let unordered = 0;
    let badRequests = 0;
    let missingIds = 0;
    const invalid: string[] = [];
    const types = new Map<string, number>();
    for (const line of small.lines) {
      const parsed = eventSchema.safeParse(JSON.parse(line));
      if (!parsed.success) {
        invalid.push(`${line}: ${parsed.error.message}`);
        continue;
      }
      const e = parsed.data;
      if (e.at < prev) unordered++;
      prev = e.at;
      types.set(e.type, (types.get(e.type) ?? 0) + 1);
      if (e.type === 'request') {
        const ok =
          e.id === undefined && !!e.promptFingerprint && !!e.ip && !!e.model && !!e.capability;
        if (!ok) badRequests++;
      } else if (e.id === undefined) missingIds++;
    }
    expect(invalid.slice(0, 3)).toEqual([]);
    expect(unordered).toBe(0);
    expect(badRequests).toBe(0);
    expect(missingIds).toBe(0);
    expect(small.lines.length).toBe(small.result.events);
    expect(types.get('signup')).toBe(small.truth.size);
    expect(types.get('payment')).toBeGreaterThanOrEqual(small.truth.size);
    expect(types.get('request')).toBe(small.result.requests);
  });

  it('covers every account exactly once in the truth file, and nothing else', () => {
    expect(small.truthRows.length).toBe(small.truth.size);
    expect(small.truth.size).toBe(small.result.accounts);
    const seen = new Set<string>();
    for (const line of small.lines) seen.add((JSON.parse(line) as { accountId: string }).accountId);
    expect([...seen].filter((id) => !small.truth.has(id))).toEqual([]);
    expect(seen.size).toBe(small.truth.size);
    const kinds = new Set(
      [...small.truth.values()].map((t) => `${t.kind}|${t.group.split(':')[0]}`),
    );
    expect([...kinds].sort()).toEqual(['benign|benign', 'campaign|campaign']);
  });

  it('matches the table: population sizes per group and the request split', async () => {
    const scale = 0.02;
    const r = await run(scale, 3);
    const p = effectiveParams(scale, 3);
    const accounts = new Map<string, number>();
    for (const { group } of r.truth.values()) accounts.set(group, (accounts.get(group) ?? 0) + 1);
    const requests = new Map<string, number>();
    for (const line of r.lines) {
      const e = JSON.parse(line) as { type: string; accountId: string };
      if (e.type !== 'request') continue;
      const g = r.truth.get(e.accountId)?.group as string;
      requests.set(g, (requests.get(g) ?? 0) + 1);
    }
    const expected: [string, { accounts: number; requests: number }][] = [
      ...Object.entries(p.campaigns).map(([n, c]): [string, typeof c] => [`campaign:${n}`, c]),
      ...Object.entries(p.benign).map(([n, b]): [string, typeof b] => [`benign:${n}`, b]),
    ];
    expect([...accounts.keys()].sort()).toEqual(expected.map(([g]) => g).sort());
    const off: string[] = [];
    for (const [group, want] of expected) {
      expect(accounts.get(group)).toBe(want.accounts);
      // Campaign volumes are tight; small benign groups have heavy-tailed volumes.
      const tolerance = group.startsWith('campaign:') ? 0.08 : 0.3;
      const got = requests.get(group) ?? 0;
      if (Math.abs(got - want.requests) / want.requests > tolerance) {
        off.push(`${group}: ${got} vs ${want.requests}`);
      }
    }
    expect(off).toEqual([]);
    const total = [...requests.values()].reduce((x, y) => x + y, 0);
    const want = expected.reduce((x, [, w]) => x + w.requests, 0);
    expect(Math.abs(total - want) / want).toBeLessThan(0.05);
    // Split between the campaigns and benign at least ten times the campaign accounts.
    const campaign = (n: string) => requests.get(`campaign:${n}`) ?? 0;
    expect(campaign('coding') / campaign('agentic')).toBeGreaterThan(3);
    expect(campaign('agentic') / campaign('reasoning')).toBeGreaterThan(15);
    const camp = [...r.truth.values()].filter((t) => t.kind === 'campaign').length;
    expect(r.truth.size - camp).toBeGreaterThanOrEqual(10 * camp);
  });

  it('moves about half the coding campaign traffic to the new model within 24 h of release', () => {
    const p = effectiveParams(0.01, 7);
    const release = releaseMsOf(p);
    let total = 0;
    let onNew = 0;
    let benignTotal = 0;
    let benignNew = 0;
    let beforeNew = 0;
    for (const line of small.lines) {
      const e = JSON.parse(line) as { type: string; accountId: string; at: string; model: string };
      if (e.type !== 'request') continue;
      const t = Date.parse(e.at);
      const group = small.truth.get(e.accountId)?.group;
      if (t < release && e.model === p.newModel) beforeNew++;
      if (t < release || t >= release + 24 * 3.6e6) continue;
      if (group === 'campaign:coding') {
        total++;
        if (e.model === p.newModel) onNew++;
      } else if (group?.startsWith('benign:')) {
        benignTotal++;
        if (e.model === p.newModel) benignNew++;
      }
    }
    expect(beforeNew).toBe(0);
    expect(total).toBeGreaterThan(500);
    expect(onNew / total).toBeGreaterThan(0.4);
    expect(onNew / total).toBeLessThan(0.6);
    expect(benignNew / benignTotal).toBeLessThan(0.1);
  });

  it('builds template pools whose variants are near-duplicates (Hamming <= 3), not identical', () => {
    const pop = buildPopulation(effectiveParams(0.01, 11));
    const templated = pop.pools.filter((pool) =>
      /^(reasoning|agentic|coding|framework)-/.test(pool.name),
    );
    expect(templated.length).toBe(4 + 6 + 8 + 2);
    let pairs = 0;
    let near = 0;
    let worst = 0;
    for (const pool of templated) {
      const fps = pool.fingerprints;
      expect(new Set(fps).size).toBeGreaterThan(10);
      expect(new Set(pool.texts).size).toBeGreaterThan(fps.length * 0.9);
      for (let i = 0; i < fps.length; i++) {
        expect(simhash(pool.texts[i] as string)).toBe(fps[i]);
        for (let j = i + 1; j < fps.length; j++) {
          const h = hammingHex(fps[i] as string, fps[j] as string);
          pairs++;
          if (h <= 3) near++;
          worst = Math.max(worst, h);
        }
      }
    }
    expect(near / pairs).toBeGreaterThan(0.85);
    expect(worst).toBeLessThanOrEqual(6);
    // Different templates are far apart.
    const a = templated[0]?.fingerprints[0] as string;
    const b = templated[1]?.fingerprints[0] as string;
    expect(hammingHex(a, b)).toBeGreaterThan(10);
  });

  it('paraphrases campaign templates when asked: no variants joined at the linkage distance, even through a chain', () => {
    /** Groups of fingerprints within 3 bits, joined transitively (as lsh.ts's union-find). */
    const groups = (fps: string[]): number => {
      const parent = fps.map((_, i) => i);
      const find = (i: number): number =>
        parent[i] === i ? i : (parent[i] = find(parent[i] as number));
      for (let i = 0; i < fps.length; i++)
        for (let j = i + 1; j < fps.length; j++)
          if (hammingHex(fps[i] as string, fps[j] as string) <= 3) parent[find(i)] = find(j);
      return new Set(fps.map((_, i) => find(i))).size;
    };
    const campaignPool = /^(reasoning|agentic|coding)-/;
    const base = buildPopulation(effectiveParams(0.01, 11));
    const para = buildPopulation(effectiveParams(0.01, 11, { campaignParaphraseShare: 0.3 }));
    expect(para.pools.map((x) => x.name)).toEqual(base.pools.map((x) => x.name));
    let defaultGroups = 0;
    let variants = 0;
    para.pools.forEach((pool, i) => {
      const before = base.pools[i] as (typeof base.pools)[number];
      if (!campaignPool.test(pool.name)) {
        // Every other pool is as without paraphrasing (its own stream per template).
        expect(pool).toEqual(before);
        return;
      }
      defaultGroups += groups(before.fingerprints);
      variants += pool.fingerprints.length;
      expect(pool.fingerprints.length).toBeGreaterThan(190);
      // One group per variant: every pair is more than 3 bits apart.
      expect(groups(pool.fingerprints)).toBe(pool.fingerprints.length);
      for (let k = 0; k < 5; k++)
        expect(simhash(pool.texts[k] as string)).toBe(pool.fingerprints[k]);
      // The system prompt itself varies, not only the task line.
      const systems = new Set(pool.texts.map((t) => t.slice(0, t.lastIndexOf('\n'))));
      expect(systems.size).toBe(pool.texts.length);
    });
    // The default pools are near-duplicates: a few groups per template, not one per variant.
    expect(defaultGroups).toBeLessThan(18 * 5);
    expect(variants).toBeGreaterThan(18 * 190);
    expect(para.accounts.map((a) => a.id)).toEqual(base.accounts.map((a) => a.id));
  });

  it('gives every campaign cell the camouflage share drawn for it, however many templates it works', () => {
    // Template weights (3 − i) / 6 summed to 1 − camouflage only for cells on 3 templates:
    // with 1 or 2 the camouflage share was inflated (up to 0.33 for a drawn 0.2).
    const own = /^(reasoning|agentic|coding)-\d+$/;
    const share = (pop: ReturnType<typeof buildPopulation>) => {
      const cells = new Map<string, { camo: number; templates: number }>();
      for (const a of pop.accounts) {
        if (a.kind !== 'campaign' || cells.has(a.subgroup)) continue;
        const { items, cum } = a.mixes;
        let camo = 0;
        let templates = 0;
        items.forEach((m, i) => {
          const w = (cum[i] as number) - (i > 0 ? (cum[i - 1] as number) : 0);
          if (m.pool && own.test(m.pool.name)) templates++;
          else camo += w;
        });
        cells.set(a.subgroup, { camo: camo / (cum[cum.length - 1] as number), templates });
      }
      return [...cells.values()];
    };
    const cells = share(buildPopulation(effectiveParams(0.05, 7)));
    expect(new Set(cells.map((c) => c.templates))).toEqual(new Set([1, 2, 3]));
    for (const c of cells) expect([c.camo > 0.1 - 1e-9, c.camo < 0.2 + 1e-9]).toEqual([true, true]);
    const camo60 = Object.fromEntries(
      Object.entries(DEFAULTS.campaigns).map(([k, v]) => [
        k,
        { ...v, camouflage: [0.5, 0.7] as const },
      ]),
    ) as unknown as SimParams['campaigns'];
    for (const c of share(buildPopulation(effectiveParams(0.05, 7, { campaigns: camo60 }))))
      expect([c.camo > 0.5 - 1e-9, c.camo < 0.7 + 1e-9]).toEqual([true, true]);

    // In the events: each cell's requests off its campaign's templates.
    const pools = buildPopulation(effectiveParams(0.01, 7)).pools.filter((x) => own.test(x.name));
    const templated = new Set(pools.flatMap((x) => x.fingerprints));
    const sub = new Map(small.truthRows.map((r) => r.split(',')).map((c) => [c[0], c[3]]));
    const counts = new Map<string, [number, number]>();
    for (const line of small.lines) {
      const e = JSON.parse(line) as { type: string; accountId: string; promptFingerprint?: string };
      if (e.type !== 'request' || small.truth.get(e.accountId)?.kind !== 'campaign') continue;
      const c = counts.get(sub.get(e.accountId) as string) ?? [0, 0];
      c[0]++;
      if (!templated.has(e.promptFingerprint as string)) c[1]++;
      counts.set(sub.get(e.accountId) as string, c);
    }
    const off: string[] = [];
    for (const [cell, [n, camo]] of counts) {
      if (n < 1000) continue;
      const sd = Math.sqrt((0.15 * 0.85) / n);
      if (camo / n < 0.1 - 4 * sd || camo / n > 0.2 + 4 * sd) off.push(`${cell}: ${camo}/${n}`);
    }
    expect(counts.size).toBeGreaterThan(3);
    expect(off).toEqual([]);
  });

  it("campaignOrdinaryCamouflage gives the framework prompt ordinary traffic's share of camouflage, not a quarter", () => {
    // Review, 12-06: a quarter of camouflage on one framework prompt (12.5× ordinary
    // traffic's 2 %) was what linked cells under heavy camouflage. Both worlds draw alike.
    const frameworkShare = (ordinary: boolean) => {
      const pop = buildPopulation(
        effectiveParams(0.05, 7, { campaignOrdinaryCamouflage: ordinary }),
      );
      const shares: number[] = [];
      const seen = new Set<string>();
      for (const a of pop.accounts) {
        if (a.kind !== 'campaign' || seen.has(a.subgroup)) continue;
        seen.add(a.subgroup);
        const { items, cum } = a.mixes;
        let camo = 0;
        let framework = 0;
        items.forEach((m, i) => {
          const w = (cum[i] as number) - (i > 0 ? (cum[i - 1] as number) : 0);
          if (m.pool && /^(reasoning|agentic|coding)-\d+$/.test(m.pool.name)) return;
          camo += w;
          if (m.pool?.name.startsWith('framework-')) framework += w;
        });
        shares.push(framework / camo);
      }
      return { cells: shares.length, shares: [...new Set(shares.map((x) => x.toFixed(4)))] };
    };
    const fw = DEFAULTS.frameworkBackgroundShare;
    const before = frameworkShare(false);
    const after = frameworkShare(true);
    expect(before).toEqual({ cells: expect.any(Number), shares: ['0.2500'] });
    expect(after).toEqual({ cells: before.cells, shares: [fw.toFixed(4)] });
    expect(before.cells).toBeGreaterThan(3);
  });

  it('emits raw prompts instead of fingerprints on the configured fraction, and gzips', async () => {
    const r = await run(0.01, 5, { gzip: true, params: { rawPromptFraction: 0.05 } });
    expect(r.result.files.events.endsWith('.jsonl.gz')).toBe(true);
    let raw = 0;
    let requests = 0;
    let both = 0;
    for (const line of r.lines) {
      const e = JSON.parse(line) as { type: string; prompt?: string; promptFingerprint?: string };
      if (e.type !== 'request') continue;
      requests++;
      if (e.prompt !== undefined) {
        raw++;
        if (e.promptFingerprint !== undefined) both++;
        if (raw <= 200) eventSchema.parse(e);
      }
    }
    expect(both).toBe(0);
    expect(raw / requests).toBeGreaterThan(0.04);
    expect(raw / requests).toBeLessThan(0.06);
    expect(small.lines.some((l) => l.includes('"prompt"'))).toBe(false);
  });

  it("piles no group's requests on one second of the day: late waves run on past midnight", () => {
    // Requests of a wave start within 20 min of it; waves late in the day used to be cut
    // at 23:59:59, which put ~0.7 % of campaign requests on that one second.
    const perSecond = new Map<string, Int32Array>();
    const totals = new Map<string, number>();
    let afterMidnight = 0;
    for (const line of small.lines) {
      const e = JSON.parse(line) as { type: string; accountId: string; at: string };
      if (e.type !== 'request') continue;
      const group = small.truth.get(e.accountId)?.group as string;
      const [h, m, sec] = e.at.slice(11, 19).split(':').map(Number) as [number, number, number];
      let counts = perSecond.get(group);
      if (!counts) perSecond.set(group, (counts = new Int32Array(86_400)));
      const i = h * 3600 + m * 60 + sec;
      counts[i] = (counts[i] ?? 0) + 1;
      totals.set(group, (totals.get(group) ?? 0) + 1);
      if (group.startsWith('campaign:') && i < 20 * 60) afterMidnight++;
    }
    expect(perSecond.size).toBe(12);
    const piled: string[] = [];
    for (const [group, counts] of perSecond) {
      // A uniform share of the group's requests per second, and Poisson noise around it.
      const uniform = (totals.get(group) ?? 0) / 86_400;
      const bound = uniform + 5 * Math.sqrt(uniform) + 5;
      const worst = counts.reduce((a, b) => Math.max(a, b), 0);
      if (worst > bound) piled.push(`${group}: ${worst} on one second (bound ${bound.toFixed(1)})`);
    }
    expect(piled).toEqual([]);
    // The first 20 minutes of a day carry yesterday's late waves (about 1/72 of the day).
    const campaign = [...totals].filter(([g]) => g.startsWith('campaign:'));
    const total = campaign.reduce((n, [, c]) => n + c, 0);
    expect(afterMidnight / total).toBeGreaterThan(0.008);
  });

  it('orders events within a second independently of the group', () => {
    // Campaigns are built first; ties once kept that order (campaign → benign 1,656 times,
    // benign → campaign 47 at this scale and seed; now 856 and 871).
    const turns = { campaignFirst: 0, benignFirst: 0 };
    let prev: { at: string; kind: string } | undefined;
    for (const line of small.lines) {
      const e = JSON.parse(line) as { accountId: string; at: string };
      const kind = small.truth.get(e.accountId)?.kind as string;
      if (prev && prev.at === e.at && prev.kind !== kind) {
        if (prev.kind === 'campaign') turns.campaignFirst++;
        else turns.benignFirst++;
      }
      prev = { at: e.at, kind };
    }
    const pairs = turns.campaignFirst + turns.benignFirst;
    expect(pairs).toBeGreaterThan(500);
    expect(turns.campaignFirst / turns.benignFirst).toBeGreaterThan(1 / 1.3);
    expect(turns.campaignFirst / turns.benignFirst).toBeLessThan(1.3);
  });

  it('boosts a hackathon for the 48 h it lasts, not every UTC day it touches', async () => {
    // Everyone at UTC−8: a hackathon opens at 17:00 UTC, so its 48 h touch three UTC days.
    const params = { timeZones: { '-8': 1 } };
    const p = effectiveParams(0.01, 7, params);
    const startMs = Date.parse(`${p.startDate}T00:00:00Z`);
    const hackers = buildPopulation(p).accounts.filter((a) => a.event);
    expect(hackers.length).toBe(p.benign.signup_burst.accounts);
    for (const a of hackers) {
      const ev = a.event as NonNullable<typeof a.event>;
      // Over all days, the boost adds (boost − 1) × the event's length in days.
      let extra = 0;
      for (let d = a.fromDay; d < a.toDay; d++)
        extra += dayFactor(a, d, startMs) - weekFactor(a, d, startMs);
      expect(extra).toBeCloseTo(((ev.boost - 1) * (ev.toMs - ev.fromMs)) / DAY, 6);
      expect(ev.toMs - ev.fromMs).toBeLessThanOrEqual(2 * DAY);
    }

    // In the events: the hourly rate inside the event and in the rest of its last UTC
    // day, against the two weeks after it.
    const r = await run(0.01, 7, { params });
    const ev = hackers[0]?.event as NonNullable<(typeof hackers)[number]['event']>;
    const dayEnd = Math.ceil((ev.toMs - startMs) / DAY) * DAY + startMs;
    expect(dayEnd - ev.toMs).toBe(7 * HOUR);
    const ids = new Set(hackers.map((a) => a.id));
    let inside = 0;
    let restOfDay = 0;
    let after = 0;
    for (const line of r.lines) {
      const e = JSON.parse(line) as { type: string; accountId: string; at: string };
      if (e.type !== 'request' || !ids.has(e.accountId)) continue;
      const t = Date.parse(e.at);
      if (t >= ev.fromMs + 3 * HOUR && t < ev.toMs) inside++;
      else if (t >= ev.toMs && t < dayEnd) restOfDay++;
      else if (t >= dayEnd && t < dayEnd + 14 * DAY) after++;
    }
    const usual = after / (14 * DAY);
    const insideRatio = inside / (ev.toMs - ev.fromMs - 3 * HOUR) / usual;
    expect(insideRatio).toBeGreaterThan(5);
    expect(insideRatio).toBeLessThan(12);
    // The old whole-day boost ran these hours at 8×.
    expect(restOfDay / (dayEnd - ev.toMs) / usual).toBeLessThan(4);
  });

  it('reports progress once per day with a growing event count', () => {
    expect(progress.map((p) => p.day)).toEqual(Array.from({ length: 90 }, (_, i) => i + 1));
    expect(progress.every((p) => p.days === 90)).toBe(true);
    expect(progress[progress.length - 1]?.events).toBe(small.result.events);
    expect(progress.every((p, i) => i === 0 || p.events >= (progress[i - 1]?.events ?? 0))).toBe(
      true,
    );
  });

  it('builds the hard cases: shared company cards, proxies carrying both kinds, shared NAT IPs', () => {
    const sub = new Map<string, string>();
    for (const row of small.truthRows) {
      const [id, , , subgroup] = row.split(',');
      sub.set(id as string, subgroup as string);
    }
    const ipGroups = new Map<string, Set<string>>();
    const ipAccounts = new Map<string, Set<string>>();
    const pmSubgroups = new Map<string, Set<string>>();
    const orgs = new Map<string, Set<string>>();
    const pmAccounts = new Map<string, number>();
    for (const line of small.lines) {
      const e = JSON.parse(line) as { type: string; accountId: string; ip?: string; org?: string };
      const t = small.truth.get(e.accountId);
      if (e.ip && t) {
        const kinds = ipGroups.get(e.ip) ?? new Set<string>();
        kinds.add(t.kind === 'campaign' ? 'campaign' : (sub.get(e.accountId) as string));
        ipGroups.set(e.ip, kinds);
        ipAccounts.set(e.ip, (ipAccounts.get(e.ip) ?? new Set<string>()).add(e.accountId));
      }
      if (e.type === 'payment') {
        const pm = (JSON.parse(line) as { paymentMethod: string }).paymentMethod;
        const set = pmSubgroups.get(pm) ?? new Set<string>();
        set.add(sub.get(e.accountId) as string);
        pmSubgroups.set(pm, set);
        pmAccounts.set(pm, (pmAccounts.get(pm) ?? 0) + 1);
      }
      if (e.org)
        orgs.set(e.org, (orgs.get(e.org) ?? new Set()).add(sub.get(e.accountId) as string));
    }
    // Proxy IPs carry campaign traffic and ordinary proxy users' traffic.
    const mixed = [...ipGroups.values()].filter((k) => k.has('campaign') && k.has('proxy_user'));
    expect(mixed.length).toBeGreaterThan(10);
    // A company's org is used only by that company; its staff share a card.
    expect(orgs.size).toBeGreaterThan(0);
    expect([...orgs.values()].every((subs) => subs.size === 1)).toBe(true);
    const companyCards = [...pmSubgroups.entries()].filter(([, s]) =>
      [...s].some((x) => x.startsWith('company-')),
    );
    expect(companyCards.length).toBeGreaterThan(0);
    expect(companyCards.every(([, s]) => s.size === 1)).toBe(true);
    expect(Math.max(...companyCards.map(([pm]) => pmAccounts.get(pm) ?? 0))).toBeGreaterThan(5);
    // Campus NAT addresses are shared by many accounts of one campus.
    const campusNats = [...ipGroups.entries()].filter(
      ([ip, k]) =>
        [...k].some((x) => x.startsWith('campus-')) && (ipAccounts.get(ip)?.size ?? 0) >= 10,
    );
    expect(campusNats.length).toBeGreaterThan(0);
    for (const [, k] of campusNats) {
      expect([...k].filter((x) => x.startsWith('campus-'))).toHaveLength(1);
    }
  });

  it('mixes proxy users into every campaign proxy IP, 60 % of their traffic on those IPs', () => {
    const { campaignIps, proxyUsers, covered } = proxyCoverage(0.01, 7);
    expect(campaignIps.size).toBeGreaterThan(20);
    expect(proxyUsers.length).toBeGreaterThanOrEqual(campaignIps.size);
    expect(covered.size).toBe(campaignIps.size);

    // In the events: the IPs campaign requests use, and what share of proxy users' requests
    // goes through them.
    const sub = new Map(small.truthRows.map((r) => r.split(',')).map((c) => [c[0], c[3]]));
    const requests = small.lines
      .map((l) => JSON.parse(l) as { type: string; accountId: string; ip: string })
      .filter((e) => e.type === 'request');
    const used = new Set(
      requests.filter((e) => small.truth.get(e.accountId)?.kind === 'campaign').map((e) => e.ip),
    );
    const ofProxyUsers = requests.filter((e) => sub.get(e.accountId) === 'proxy_user');
    const through = ofProxyUsers.filter((e) => used.has(e.ip)).length / ofProxyUsers.length;
    expect(ofProxyUsers.length).toBeGreaterThan(1000);
    expect(through).toBeGreaterThan(0.55);
    expect(through).toBeLessThan(0.65);
    // Ordinary traffic is a visible share on the proxies, not a rounding error.
    const benignOnProxies = requests.filter(
      (e) => used.has(e.ip) && small.truth.get(e.accountId)?.kind === 'benign',
    ).length;
    const onProxies = requests.filter((e) => used.has(e.ip)).length;
    expect(benignOnProxies / onProxies).toBeGreaterThan(0.005);
  });

  it('deals every campaign proxy IP to a proxy user even with fewer individuals than such IPs', () => {
    // Scale 0.0001: 20 individuals (the floor), about 50 campaign IPs.
    for (const seed of [42, 7]) {
      const { campaignIps, proxyUsers, covered } = proxyCoverage(0.0001, seed);
      expect(proxyUsers.length).toBeLessThan(campaignIps.size);
      expect(covered.size).toBe(campaignIps.size);
    }
  });

  it('spreads NAT and VPN pools over as many /24s as configured, and puts framework developers behind carriers', () => {
    const subnets = (ips: string[]) =>
      new Set(ips.map((ip) => ip.split('.').slice(0, 3).join('.')));
    const pools = (p: ReturnType<typeof buildPopulation>, group: string, size: number) =>
      p.accounts
        .filter((a) => a.group === `benign:${group}`)
        .map((a) => a.ips.items.find((ips) => ips.length === size) as string[]);
    const defaults = buildPopulation(effectiveParams(0.01, 7, { carrierNatIps: [45, 45] }));
    const carrier = pools(defaults, 'carrier_nat', 45);
    expect(carrier.length).toBeGreaterThan(0);
    expect(carrier.every((ips) => subnets(ips).size === 3)).toBe(true);
    const wide = buildPopulation(
      effectiveParams(0.01, 7, {
        campusNatIps: [16, 16],
        campusNatIpsPerSubnet: 2,
        carrierNatIps: [40, 40],
        carrierNatIpsPerSubnet: 4,
        vpnExitIps: [21, 21],
        vpnExitIpsPerSubnet: 3,
        frameworkDevsOnCarrierShare: 0.5,
      }),
    );
    for (const [group, size, expected] of [
      ['campus_nat', 16, 8],
      ['carrier_nat', 40, 10],
      ['vpn', 21, 7],
    ] as const) {
      const found = pools(wide, group, size);
      expect(found.length).toBeGreaterThan(0);
      for (const ips of found) expect(subnets(ips).size).toBe(expected);
    }
    const carrierPools = new Set(pools(wide, 'carrier_nat', 40));
    const devs = wide.accounts.filter((a) => a.group === 'benign:framework_devs');
    const behind = devs.filter((a) => a.ips.items.some((ips) => carrierPools.has(ips)));
    expect(behind.length / devs.length).toBeGreaterThan(0.3);
    expect(behind.length / devs.length).toBeLessThan(0.7);
  });

  it('poses campaigns as companies when asked: own org and domain, spread sign-ups, office hours', async () => {
    // Everyone at UTC−8: the office window opens at 17:00 UTC and wraps past midnight.
    const params = {
      campaignOrgShare: 1,
      campaignSignupSpreadDays: 60,
      campaignOfficeHours: true,
      timeZones: { '-8': 1 },
    };
    const posing = await run(0.01, 7, { params });
    const p = effectiveParams(0.01, 7, params);
    const windowEndMs = Date.parse(`${p.startDate}T00:00:00Z`) + p.days * DAY;
    const subOf = new Map(posing.truthRows.map((r) => r.split(',')).map((c) => [c[0], c[3]]));
    const campaign = [...posing.truth].filter(([, t]) => t.kind === 'campaign').map(([id]) => id);
    type Sub = { orgs: Set<string>; domains: Set<string>; signups: number[] };
    const subs = new Map<string, Sub>();
    const sub = (id: string): Sub => {
      const k = subOf.get(id) as string;
      let s = subs.get(k);
      if (!s) subs.set(k, (s = { orgs: new Set(), domains: new Set(), signups: [] }));
      return s;
    };
    const signedUp = new Set<string>();
    const hours = new Array<number>(24).fill(0);
    let weekend = 0;
    let requests = 0;
    for (const line of posing.lines) {
      const e = JSON.parse(line) as Record<string, string>;
      const id = e.accountId as string;
      if (posing.truth.get(id)?.kind !== 'campaign') continue;
      const at = new Date(e.at as string);
      if (e.type === 'signup') {
        signedUp.add(id);
        sub(id).signups.push(at.getTime());
        sub(id).domains.add(e.emailDomain as string);
        if (e.org) sub(id).orgs.add(e.org);
      } else if (e.type === 'request') {
        requests++;
        if ([0, 6].includes(at.getUTCDay())) weekend++;
        hours[at.getUTCHours()] = (hours[at.getUTCHours()] ?? 0) + 1;
      }
    }
    // Every account signs up inside the window, spread or not.
    expect(signedUp.size).toBe(campaign.length);
    expect(subs.size).toBeGreaterThan(3);
    const domains = new Set<string>();
    for (const [name, s] of subs) {
      // Spread sign-ups stop a day before the window ends.
      expect(Math.max(...s.signups)).toBeLessThan(windowEndMs - DAY);
      // One org and one non-webmail domain per sub-group, none shared with another.
      expect([name, s.orgs.size, s.domains.size]).toEqual([name, 1, 1]);
      const d = [...s.domains][0] as string;
      expect(WEBMAIL).not.toContain(d);
      expect(domains.has(d)).toBe(false);
      domains.add(d);
      // Sign-ups spread over weeks, not a 6-hour burst.
      expect(Math.max(...s.signups) - Math.min(...s.signups)).toBeGreaterThan(7 * DAY);
    }
    // Waves from 17:00 to 02:00 UTC (jitter may carry a request past 02:00; on its
    // sign-up day an account's requests before the sign-up move later in the day).
    const inWindow = hours.filter((_, h) => h >= 17 || h < 3).reduce((a, b) => a + b, 0);
    expect(inWindow / requests).toBeGreaterThan(0.97);
    expect(((hours[0] ?? 0) + (hours[1] ?? 0)) / requests).toBeGreaterThan(0.1);
    // Weekends carry a tenth of a weekday's volume: about 2 × 0.1 / (5 + 2 × 0.1) of it.
    expect(weekend / requests).toBeGreaterThan(0.01);
    expect(weekend / requests).toBeLessThan(0.08);
  });

  it("puts a company's office traffic on a gateway pool of /24s when asked, and on one /24 by default", () => {
    const offices = (params: Partial<SimParams>) => {
      const byCompany = new Map<string, Set<string>>();
      for (const a of buildPopulation(effectiveParams(0.01, 7, params)).accounts) {
        if (a.group !== 'benign:company') continue;
        const office = a.ips.items[0] as string[]; // the office's IPs (then the home IP)
        const nets = byCompany.get(a.subgroup) ?? new Set<string>();
        for (const ip of office) nets.add(subnetOf(ip));
        byCompany.set(a.subgroup, nets);
      }
      return [...byCompany.values()].map((nets) => nets.size);
    };
    const one = offices({});
    expect(one.length).toBeGreaterThan(1);
    expect(one.every((n) => n === 1)).toBe(true);
    const pool = offices({ companyEgressSubnets: 20 });
    expect(pool.length).toBe(one.length);
    expect(pool.every((n) => n === 20)).toBe(true);
  });

  it('builds agent companies when asked: heavy, mostly coding, switched within a day of the release', async () => {
    const companies = (share: number) =>
      buildPopulation(effectiveParams(0.01, 7, { companyAgentShare: share })).accounts.filter(
        (a) => a.group === 'benign:company',
      );
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    const plain = companies(0);
    const agentStaff = companies(1);
    const ratio = mean(agentStaff.map((a) => a.rate)) / mean(plain.map((a) => a.rate));
    expect(ratio).toBeGreaterThan(8);
    expect(ratio).toBeLessThan(12);
    const release = releaseMsOf(effectiveParams(0.01, 7));
    for (const a of agentStaff) {
      expect(a.pivotAtMs).toBeGreaterThanOrEqual(release);
      expect(a.pivotAtMs).toBeLessThan(release + DAY);
    }
    expect(plain.every((a) => a.adoption === 'ordinary' && a.agentVolume === undefined)).toBe(true);

    const agents = await run(0.01, 7, { params: { companyAgentShare: 1 } });
    const p = effectiveParams(0.01, 7);
    const releaseMs = releaseMsOf(p);
    let before = 0;
    let after = 0;
    let afterNew = 0;
    let coding = 0;
    for (const line of agents.lines) {
      const e = JSON.parse(line) as Record<string, string>;
      if (e.type !== 'request') continue;
      if (agents.truth.get(e.accountId as string)?.group !== 'benign:company') continue;
      const t = Date.parse(e.at as string);
      const isNew = e.model === p.newModel;
      if (e.capability === 'coding') coding++;
      if (t < releaseMs) {
        before++;
      } else if (t >= releaseMs + DAY) {
        after++;
        if (isNew) afterNew++;
      }
    }
    // The agent's share (0.8) of all their requests, from a day after the release.
    expect(afterNew / after).toBeGreaterThan(0.75);
    expect(afterNew / after).toBeLessThan(0.85);
    // 80 % through the agent, 80 % of that coding; ordinary requests add a little.
    expect(coding / (before + after)).toBeGreaterThan(0.6);
  });

  it('builds the benign stressors when asked, each changing only its own fields', async () => {
    const defaults = buildPopulation(effectiveParams(0.01, 7)).accounts;
    const stressed = buildPopulation(
      effectiveParams(0.01, 7, {
        teamWebmailShare: 1,
        sponsoredHackathonShare: 1,
        fastAdopterShare: 1,
      }),
    ).accounts;
    expect(stressed.map((a) => a.id)).toEqual(defaults.map((a) => a.id));
    const release = releaseMsOf(effectiveParams(0.01, 7));
    const fastGroups = ['company', 'startup', 'framework_devs', 'signup_burst', 'heavy_user'];
    const cards = new Map<string, Set<string>>();
    const cardOwners = new Map<string, Set<string>>();
    stressed.forEach((a, i) => {
      const d = defaults[i] as (typeof defaults)[number];
      const group = a.group.replace(/^\w+:/, '');
      // Never touched: identity, network, prompts, timing.
      expect([a.signupMs, a.signupIp, a.device, a.ips, a.rate]).toEqual([
        d.signupMs,
        d.signupIp,
        d.device,
        d.ips,
        d.rate,
      ]);
      if (group === 'company' || group === 'startup') {
        // Teams on personal webmail: no org, the team's card as before.
        expect(WEBMAIL).toContain(a.emailDomain);
        expect(a.org).toBeUndefined();
        expect(a.payment).toBe(d.payment);
      } else {
        expect([a.emailDomain, a.org]).toEqual([d.emailDomain, d.org]);
      }
      if (group === 'signup_burst') {
        cards.set(a.subgroup, (cards.get(a.subgroup) ?? new Set()).add(a.payment));
      } else expect(a.payment).toBe(d.payment);
      cardOwners.set(a.payment, (cardOwners.get(a.payment) ?? new Set()).add(a.subgroup));
      // Their own adoption stays; the switch comes on top (generate.ts draws it apart).
      expect([a.adoption, a.pivotAtMs, a.pivotShare]).toEqual([
        d.adoption,
        d.pivotAtMs,
        d.pivotShare,
      ]);
      if (a.kind === 'benign' && fastGroups.includes(group)) {
        const fast = a.fastAdoption as NonNullable<typeof a.fastAdoption>;
        expect(fast.atMs).toBeGreaterThanOrEqual(release);
        expect(fast.atMs).toBeLessThanOrEqual(release + 6 * HOUR);
        expect(fast.share).toBeGreaterThanOrEqual(0.5);
        expect(fast.share).toBeLessThanOrEqual(0.9);
      } else expect(a.fastAdoption).toBeUndefined();
    });
    // A sponsored hackathon: one card for everyone there, used by no one else.
    expect(cards.size).toBeGreaterThan(0);
    for (const [, set] of cards) {
      expect(set.size).toBe(1);
      expect(cardOwners.get([...set][0] as string)?.size).toBe(1);
    }

    // In the events: the fast adopters' traffic moves to the new model within hours.
    const fast = await run(0.01, 7, { params: { fastAdopterShare: 1 } });
    const p = effectiveParams(0.01, 7);
    let total = 0;
    let onNew = 0;
    for (const line of fast.lines) {
      const e = JSON.parse(line) as Record<string, string>;
      if (e.type !== 'request') continue;
      const group = (fast.truth.get(e.accountId as string)?.group ?? '').replace('benign:', '');
      const t = Date.parse(e.at as string);
      if (!fastGroups.includes(group) || t < release + 6 * HOUR || t >= release + DAY) continue;
      total++;
      if (e.model === p.newModel) onNew++;
    }
    expect(total).toBeGreaterThan(200);
    expect(onNew / total).toBeGreaterThan(0.6);
    expect(onNew / total).toBeLessThan(0.8);
  });

  it('puts the proxy network on IPv6 /48s when asked, in the form ingest stores (ipv6-proxies)', () => {
    const pop = buildPopulation(effectiveParams(0.01, 7, { proxyIpv6Share: 1 }));
    const ips = new Set(
      pop.accounts.filter((a) => a.kind === 'campaign').flatMap((a) => a.ips.items.flat()),
    );
    expect(ips.size).toBeGreaterThan(20);
    const perSubnet = new Map<string, number>();
    for (const ip of ips) {
      expect(ip).toContain(':');
      expect(canonicalIp(ip)).toBe(ip);
      const net = subnetOf(ip);
      expect(net).toMatch(/\/48$/);
      perSubnet.set(net, (perSubnet.get(net) ?? 0) + 1);
    }
    // exits share /48s, as IPv4 exits share /24s
    expect(Math.max(...perSubnet.values())).toBeGreaterThan(1);
  });

  it('shares benign devices when asked: lab machines per campus, households of 2–4, nothing else redrawn', () => {
    const defaults = buildPopulation(effectiveParams(0.01, 7)).accounts;
    const shared = buildPopulation(effectiveParams(0.01, 7, { sharedDeviceShare: 1 })).accounts;
    const users = new Map<string, Set<string>>();
    shared.forEach((a, i) => {
      const d = defaults[i] as (typeof defaults)[number];
      expect({ ...a, device: undefined }).toEqual({ ...d, device: undefined });
      // an account without a device gets none; campaigns keep theirs
      if (d.device === undefined || a.kind === 'campaign') expect(a.device).toBe(d.device);
      if (a.device !== undefined)
        users.set(a.device, (users.get(a.device) ?? new Set()).add(`${a.group}/${a.subgroup}`));
    });
    const groupsOn = (group: string) =>
      [...users].filter(([, g]) => [...g].some((x) => x.startsWith(group)));
    // a lab machine serves one campus; a household's device only plain individuals
    const labs = groupsOn('benign:campus_nat');
    expect(labs.length).toBeGreaterThan(0);
    for (const [, g] of labs) expect(g.size).toBe(1);
    const households = groupsOn('benign:individual/plain');
    expect(households.length).toBeGreaterThan(10);
    for (const [, g] of households) expect([...g]).toEqual(['benign:individual/plain']);
    const sizes = households.map(([device]) => shared.filter((a) => a.device === device).length);
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(4);
    expect(sizes.filter((n) => n >= 2).length).toBeGreaterThan(sizes.length / 2);
  });

  it('turns fast adopters on without redrawing anything else: the same events but their models', async () => {
    // The switch used to be drawn on the events stream, so every later event (campaigns
    // included) was another draw.
    const fast = await run(0.01, 7, { params: { fastAdopterShare: 1 } });
    const fastGroups = ['company', 'startup', 'framework_devs', 'signup_burst', 'heavy_user'];
    expect(fast.truthRows).toEqual(small.truthRows);
    expect(fast.lines.length).toBe(small.lines.length);
    const withoutModel = (line: string) => line.replace(/,"model":"[^"]*"/, '');
    let campaign = 0;
    let changed = 0;
    const other: string[] = [];
    small.lines.forEach((line, i) => {
      const b = fast.lines[i] as string;
      const e = JSON.parse(line) as { accountId: string };
      const group = small.truth.get(e.accountId)?.group as string;
      if (group.startsWith('campaign:')) {
        campaign++;
        if (b !== line) other.push(`campaign: ${line} / ${b}`);
      } else if (b !== line) {
        changed++;
        if (
          !fastGroups.includes(group.replace('benign:', '')) ||
          withoutModel(b) !== withoutModel(line)
        )
          other.push(`${group}: ${line} / ${b}`);
      }
    });
    expect(other.slice(0, 3)).toEqual([]);
    expect(campaign).toBeGreaterThan(100_000);
    expect(changed).toBeGreaterThan(1000);
  });

  it('shares no card at all with one card per account and no cross-cell reuse (own-card)', () => {
    /** Per campaign card: the accounts on it, and their cells. */
    const cardsOf = (params: Partial<SimParams>) => {
      const cards = new Map<string, { accounts: number; cells: Set<string> }>();
      for (const a of buildPopulation(effectiveParams(0.02, 7, params)).accounts) {
        if (a.kind !== 'campaign') continue;
        const c = cards.get(a.payment) ?? { accounts: 0, cells: new Set<string>() };
        c.accounts++;
        c.cells.add(a.subgroup);
        cards.set(a.payment, c);
      }
      return [...cards.values()];
    };
    const ownCard = (extra: Partial<SimParams>): Partial<SimParams> => ({
      ...extra,
      campaigns: Object.fromEntries(
        Object.entries(DEFAULTS.campaigns).map(([k, v]) => [
          k,
          { ...v, accountsPerPaymentMethod: [1, 1] as const },
        ]),
      ) as SimParams['campaigns'],
    });
    // The default keeps 4 % of accounts on a neighbouring cell's card, even at one per account.
    const loose = cardsOf(ownCard({})).filter((c) => c.cells.size > 1);
    expect(loose.length).toBeGreaterThan(3);
    const own = cardsOf(ownCard({ crossCellCardShare: 0 }));
    const accounts = Object.values(effectiveParams(0.02, 7).campaigns).reduce(
      (n, c) => n + c.accounts,
      0,
    );
    expect(own.length).toBe(accounts);
    expect(own.filter((c) => c.accounts > 1)).toEqual([]);
  });

  it('gives every campaign sign-up its own device when asked, none shared', () => {
    const devicesOf = (own: boolean) => {
      const pop = buildPopulation(effectiveParams(0.01, 7, { campaignOwnDevices: own }));
      const users = new Map<string, number>();
      for (const a of pop.accounts)
        if (a.device) users.set(a.device, (users.get(a.device) ?? 0) + 1);
      const campaign = pop.accounts.filter((a) => a.kind === 'campaign' && a.device);
      return { campaign, shared: campaign.filter((a) => (users.get(a.device as string) ?? 0) > 1) };
    };
    const pooled = devicesOf(false);
    expect(pooled.shared.length).toBeGreaterThan(pooled.campaign.length / 2);
    const own = devicesOf(true);
    expect(own.campaign.length).toBeGreaterThan(20);
    expect(own.shared).toEqual([]);
  });

  it("sends no account's request or payment before its sign-up, in the file's order (review, 12-05)", () => {
    // An event in the sign-up's own second could be ordered before it (ties are
    // shuffled): every request and payment now comes in a later second than its sign-up
    // (a second payment had been able to share it).
    const signedUp = new Map<string, string>();
    const early: string[] = [];
    for (const line of small.lines) {
      const e = JSON.parse(line) as { type: string; accountId: string; at: string };
      if (e.type === 'signup') signedUp.set(e.accountId, e.at);
      else {
        const at = signedUp.get(e.accountId);
        if (at === undefined || e.at <= at) early.push(`${e.accountId} ${e.at}`);
      }
    }
    expect(early.slice(0, 3)).toEqual([]);
  });

  it("writes a pre-window sign-up in its day's last second before its payment, both in the prologue (review, 12-07)", () => {
    // Its payment, at the next midnight, was carried to day 0's batch: after the whole
    // prologue, up to preWindowDays out of time order (1–6 accounts at scales 0.5–5).
    const p = effectiveParams(0.002, 42);
    const pop = buildPopulation(p);
    const a = pop.accounts.find((x) => x.signupMs < pop.startMs - 2 * DAY);
    if (!a) throw new Error('no account signed up before the window');
    a.signupMs = Math.floor(a.signupMs / DAY) * DAY + DAY - 400; // 23:59:59.6
    const gen = new Generator(p, pop);
    const at = (lines: string[]) =>
      lines.map((l) => JSON.parse(l) as { type: string; accountId: string; at: string });
    const prologue = at(gen.prologue());
    const mine = prologue.filter((e) => e.accountId === a.id).map((e) => [e.type, e.at]);
    const midnight = new Date(Math.floor(a.signupMs / DAY) * DAY + DAY).toISOString();
    expect(mine).toEqual([
      ['signup', expect.stringMatching(/T23:59:59/)],
      ['payment', midnight.replace('.000Z', 'Z')],
    ]);
    const times = prologue.map((e) => e.at);
    expect(times).toEqual([...times].sort());
    expect(at(gen.day(0)).filter((e) => e.accountId === a.id && e.type === 'payment')).toEqual([]);
  });

  it("keeps a benign account's hourly rate on its sign-up day: what falls before the sign-up is not squeezed after it (review, 12-05)", () => {
    // Requests drawn before the sign-up were moved into the hours after it: a whole day's
    // requests in what was left of it (up to 2.6x the usual hourly rate). Observed against
    // expected, over the hours after sign-up, on the sign-up day and on the days after.
    const p = effectiveParams(0.01, 7);
    const pop = buildPopulation(p);
    const observed = { first: 0, later: 0 };
    const expected = { first: 0, later: 0 };
    const counts = new Map<string, Map<number, number>>();
    for (const line of small.lines) {
      const e = JSON.parse(line) as { type: string; accountId: string; at: string };
      if (e.type !== 'request') continue;
      const day = Math.floor((Date.parse(e.at) - pop.startMs) / DAY);
      let perDay = counts.get(e.accountId);
      if (!perDay) counts.set(e.accountId, (perDay = new Map()));
      perDay.set(day, (perDay.get(day) ?? 0) + 1);
    }
    for (const a of pop.accounts) {
      // benign accounts that sign up inside the window, without a hackathon's extra hours
      if (a.kind !== 'benign' || a.event || a.signupMs < pop.startMs || a.rate <= 0) continue;
      if (a.fromDay + 1 >= a.toDay) continue;
      for (let d = a.fromDay; d < Math.min(a.toDay, a.fromDay + 8); d++) {
        const dayMs = pop.startMs + d * DAY;
        const share = d === a.fromDay ? shareOfDayFrom(a, dayMs, firstRequestMs(a)) : 1;
        const key = d === a.fromDay ? 'first' : 'later';
        expected[key] += a.rate * weekFactor(a, d, pop.startMs) * share;
        observed[key] += counts.get(a.id)?.get(d) ?? 0;
      }
    }
    expect(expected.first).toBeGreaterThan(200);
    const ratio = (k: 'first' | 'later') => observed[k] / expected[k];
    // the days after are the yardstick; before the fix the sign-up day read 1.72 (here
    // 0.88: a few heavy users idle on their first day; 0.98 without them at scale 0.05)
    expect(ratio('later')).toBeGreaterThan(0.85);
    expect(ratio('later')).toBeLessThan(1.15);
    expect(ratio('first') / ratio('later')).toBeGreaterThan(0.8);
    expect(ratio('first') / ratio('later')).toBeLessThan(1.25);
  });

  it('gives each campaign sub-group distinct proxy IPs (review, 12-05)', () => {
    const pop = buildPopulation(effectiveParams(0.1, 1));
    // picked with replacement, a third of the sub-groups drew some IP twice
    const repeated = pop.accounts.filter((a) => {
      if (a.kind !== 'campaign') return false;
      const ips = a.ips.items.map((x) => x.join());
      return new Set(ips).size !== ips.length;
    });
    expect(repeated.map((a) => a.subgroup).slice(0, 3)).toEqual([]);
  });

  it("gives no startup's staff one sign-up second (review, 12-05)", () => {
    const pop = buildPopulation(effectiveParams(0.1, 1));
    // clamped to the window's last day, a late startup's staff signed up in one second
    const seconds = new Map<string, number>();
    for (const a of pop.accounts.filter((x) => x.group === 'benign:startup')) {
      const key = `${a.subgroup} ${Math.floor(a.signupMs / 1000)}`;
      seconds.set(key, (seconds.get(key) ?? 0) + 1);
    }
    expect([...seconds].filter(([, n]) => n > 1).slice(0, 3)).toEqual([]);
  });

  it('refuses a seed that is not an integer in [0, 2^32), which would be another seed folded', () => {
    for (const seed of [-1, 2 ** 32, 4_294_967_297, 1.5, Number.NaN, Infinity]) {
      expect(() => effectiveParams(0.01, seed)).toThrow('seed must be an integer in [0, 2^32)');
    }
    expect(effectiveParams(0.01, 0).seed).toBe(0);
    expect(effectiveParams(0.01, 2 ** 32 - 1).seed).toBe(2 ** 32 - 1);
  });

  it('rejects, not crashes, when the events file cannot be written, gzipped or not', async () => {
    // A directory where the events file goes: the write fails (EISDIR). With gzip the
    // file stream's error used to be an unhandled 'error' event that ended the process.
    // One where the other form's events file goes, removed at the end, is said up front
    // too (review, 12-07: it failed the run after the new files were in place).
    for (const [gzip, taken] of [
      [true, 'events.jsonl.gz'],
      [false, 'events.jsonl'],
      [true, 'events.jsonl'],
      [false, 'events.jsonl.gz'],
    ] as const) {
      const outDir = tmp();
      mkdirSync(join(outDir, taken));
      await expect(simulate({ scale: 0.001, seed: 1, outDir, gzip })).rejects.toThrow(/EISDIR/);
      expect(existsSync(join(outDir, 'truth.csv'))).toBe(false);
    }
  });

  it('refuses a second run into a folder while one runs there; the first ends whole (review, 12-07)', async () => {
    // Both wrote one events.jsonl.partial: the first to end renamed a mix into place
    // and exited 0, the second failed on the rename.
    const outDir = tmp();
    let second: Promise<unknown> | undefined;
    const first = await simulate({
      scale: 0.001,
      seed: 1,
      outDir,
      onProgress: ({ day }) => {
        if (day === 1) second = simulate({ scale: 0.001, seed: 2, outDir });
      },
    });
    await expect(second).rejects.toThrow(
      `another simulate into ${outDir} is running (pid ${process.pid} on ${hostname()})`,
    );
    const alone = tmp();
    await simulate({ scale: 0.001, seed: 1, outDir: alone });
    const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
    for (const f of ['events.jsonl', 'truth.csv', 'params.json'])
      expect([f, sha(join(outDir, f))]).toEqual([f, sha(join(alone, f))]);
    expect(first.events).toBeGreaterThan(0);
    expect(readdirSync(outDir).sort()).toEqual(['events.jsonl', 'params.json', 'truth.csv']);
    // Another process's live lock too, named.
    writeFileSync(join(outDir, '.simulate.lock'), `${process.ppid} ${hostname()}\n`);
    await expect(simulate({ scale: 0.001, seed: 1, outDir })).rejects.toThrow(
      `(pid ${process.ppid} on ${hostname()}); wait for it, or remove ${join(outDir, '.simulate.lock')}`,
    );
  });

  it("a run that fails midway leaves the previous run's files as they were; one in the other form replaces them", async () => {
    // Review, 12-04: the events file was emptied at the start and truth.csv rewritten at
    // the end, so a stopped run left new events beside an older seed's truth.
    const outDir = tmp();
    await simulate({ scale: 0.001, seed: 1, outDir });
    const before = ['events.jsonl', 'truth.csv', 'params.json'].map((f) =>
      readFileSync(join(outDir, f), 'utf8'),
    );
    const stop = new Error('stopped at day 3');
    const onProgress = ({ day }: { day: number }) => {
      if (day === 3) throw stop;
    };
    await expect(simulate({ scale: 0.001, seed: 2, outDir, onProgress })).rejects.toBe(stop);
    expect(
      ['events.jsonl', 'truth.csv', 'params.json'].map((f) =>
        readFileSync(join(outDir, f), 'utf8'),
      ),
    ).toEqual(before);
    expect(readdirSync(outDir).sort()).toEqual(['events.jsonl', 'params.json', 'truth.csv']);
    // Gzipped now: the plain events file was the older run's.
    await simulate({ scale: 0.001, seed: 2, outDir, gzip: true });
    expect(readdirSync(outDir).sort()).toEqual(['events.jsonl.gz', 'params.json', 'truth.csv']);
    expect(JSON.parse(readFileSync(join(outDir, 'params.json'), 'utf8'))).toMatchObject({
      seed: 2,
    });
  });

  it('refuses up front a scale that is not finite or whose busiest day would not fit in memory', async () => {
    // Scale 20 ran for hours before a day overflowed; Infinity looped until out of memory.
    for (const scale of [Infinity, Number.NaN, 0, -1])
      expect(() => effectiveParams(scale, 1)).toThrow('scale must be a finite number > 0');
    for (const scale of [5.01, 20, 1e9])
      expect(() => effectiveParams(scale, 1)).toThrow(/scale must be at most 5 \(/);
    expect(effectiveParams(5, 1).scale).toBe(5);
    // Overrides can crowd a day at any scale: here companies whose agents send ~5 M a day.
    const outDir = tmp();
    const params = { companyAgentShare: 1, companyAgentVolume: 25_000 };
    await expect(simulate({ scale: 0.01, seed: 1, outDir, params })).rejects.toThrow(
      /busiest day would hold about [\d,]+ events, more than one day can \(4,194,304,/,
    );
    expect(existsSync(join(outDir, 'events.jsonl'))).toBe(false);
  });

  it('gives away nothing in value formats: one account id format for everyone', () => {
    expect(small.truth.size).toBeGreaterThan(0);
    for (const id of small.truth.keys()) expect(id).toMatch(/^[a-z0-9]{14}$/);
  });
});

/** The IPs campaign accounts use, the proxy users, and which of those IPs they share. */
function proxyCoverage(scale: number, seed: number) {
  const pop = buildPopulation(effectiveParams(scale, seed));
  const campaignIps = new Set<string>();
  for (const a of pop.accounts)
    if (a.kind === 'campaign')
      for (const ips of a.ips.items) ips.forEach((ip) => campaignIps.add(ip));
  const proxyUsers = pop.accounts.filter((a) => a.subgroup === 'proxy_user');
  const covered = new Set<string>();
  for (const a of proxyUsers)
    for (const ips of a.ips.items)
      ips.filter((ip) => campaignIps.has(ip)).forEach((ip) => covered.add(ip));
  return { campaignIps, proxyUsers, covered };
}
