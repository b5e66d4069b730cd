/**
 * Fixture builders for the pure linkage stages: small, readable populations of
 * accounts (people, a company, a campus, a ring, …) turned into a LinkageInput and
 * a Detection, so score/match tests read like the scenario they plant.
 * Everything is seeded; no clock.
 */
import { bareAccount } from '../../../bench/linkage/synthetic';
import { IdentifierTable } from '../../../src/linkage/identifier-table';
import type {
  AccountFacts,
  Detection,
  HourSeries,
  Identifier,
  IdentifierKind,
  LinkageGraph,
  LinkageInput,
  ModelUse,
} from '../../../src/linkage/types';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
/** Monday 2026-01-05 00:00 UTC: day 0 of every fixture's activity period. */
export const T0 = Date.UTC(2026, 0, 5);
export const T0_HOUR = T0 / HOUR;
/** The old model exists from T0; the new model "appears" on day 40. */
export const OLD_MODEL = 'model-a';
export const NEW_MODEL = 'model-b';
export const RELEASE = T0 + 40 * DAY;
export const PERIOD_DAYS = 60;

export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomHex(r: () => number): string {
  let s = '';
  for (let i = 0; i < 16; i++) s += Math.floor(r() * 16).toString(16);
  return s;
}

/** A near-duplicate of a fingerprint: `bits` distinct random bits flipped. */
export function variant(hex: string, bits: number, r: () => number): string {
  const digits = hex.split('').map((d) => parseInt(d, 16));
  const flipped = new Set<number>();
  while (flipped.size < bits) flipped.add(Math.floor(r() * 64));
  for (const b of flipped) {
    const i = b >> 2;
    digits[i] = (digits[i] ?? 0) ^ (1 << (b & 3));
  }
  return digits.map((d) => d.toString(16)).join('');
}

export interface Link {
  kind: IdentifierKind;
  value: string;
  count?: number;
}

export interface FixtureAccount {
  id: string;
  signupAt: number | null;
  hours: HourSeries;
  emailDomain: string | null;
  org: string | null;
  /**
   * Capability labels in proportion: scaled to the account's requests (every request
   * labelled, as the simulator sends them), or to `labelledShare` of them.
   */
  capabilities: { name: string; count: number }[];
  labelledShare?: number;
  links: Link[];
  /** share of traffic on NEW_MODEL per epoch hour (default: none) */
  newModelShare?: (epochHour: number) => number;
}

export interface ScheduleOptions {
  /** first and last day (inclusive start, exclusive end) of activity, relative to T0 */
  fromDay: number;
  toDay: number;
  /** UTC hours of day the account is active in */
  hoursOfDay: number[];
  /** chance a given day is active */
  dayChance: number;
  weekdaysOnly?: boolean;
  perHour: number;
}

/** Hour series from a schedule (ascending epoch hours). */
export function schedule(o: ScheduleOptions, r: () => number): HourSeries {
  const keys: number[] = [];
  const counts: number[] = [];
  for (let d = o.fromDay; d < o.toDay; d++) {
    const weekday = d % 7; // day 0 is a Monday
    if (o.weekdaysOnly && weekday >= 5) continue;
    if (r() >= o.dayChance) continue;
    for (const h of [...o.hoursOfDay].sort((a, b) => a - b)) {
      keys.push(T0_HOUR + d * 24 + h);
      counts.push(o.perHour);
    }
  }
  return { keys, counts };
}

export function slot(start: number, length: number): number[] {
  return Array.from({ length }, (_, i) => (start + i) % 24);
}

export const ALL_HOURS = slot(0, 24);
const LABELS = ['reasoning', 'coding', 'tool_use', 'writing', 'analysis'];
const WEBMAIL = ['gmail.com', 'outlook.com', 'yahoo.com', 'proton.me'];

/**
 * An ordinary, unrelated person: own card, own address, webmail, sign-up somewhere in
 * the 30 days before T0, active a few hours in a personal slot on ~40% of days, a mix
 * of capabilities, and prompts of their own.
 */
export function person(
  id: string,
  r: () => number,
  over: Partial<FixtureAccount> = {},
): FixtureAccount {
  const start = Math.floor(r() * 24);
  const hours = schedule(
    {
      fromDay: 0,
      toDay: PERIOD_DAYS,
      hoursOfDay: slot(start, 3 + Math.floor(r() * 3)),
      dayChance: 0.4,
      perHour: 2,
    },
    r,
  );
  const a = 10 + Math.floor(r() * 200);
  const b = Math.floor(r() * 250);
  const capabilities = LABELS.map((name) => ({ name, count: 1 + Math.floor(r() * 20) }));
  return {
    id,
    signupAt: T0 - Math.floor(r() * 30 * DAY),
    hours,
    emailDomain: WEBMAIL[Math.floor(r() * WEBMAIL.length)] ?? 'gmail.com',
    org: null,
    capabilities,
    links: [
      { kind: 'payment', value: `card-${id}` },
      { kind: 'ip', value: `10.${a}.${b}.${1 + Math.floor(r() * 250)}` },
      { kind: 'subnet', value: `10.${a}.${b}.0/24` },
      { kind: 'prompt', value: randomHex(r), count: 5 },
      { kind: 'prompt', value: randomHex(r), count: 5 },
    ],
    ...over,
  };
}

function total(series: HourSeries): number {
  return series.counts.reduce((s, c) => s + c, 0);
}

function toFacts(f: FixtureAccount): AccountFacts {
  const requests = total(f.hours);
  const oldKeys: number[] = [];
  const oldCounts: number[] = [];
  const newKeys: number[] = [];
  const newCounts: number[] = [];
  const releaseHour = RELEASE / HOUR;
  f.hours.keys.forEach((k, i) => {
    const c = f.hours.counts[i] ?? 0;
    const share = k >= releaseHour && f.newModelShare ? f.newModelShare(k) : 0;
    const onNew = Math.round(c * share);
    if (c - onNew > 0) {
      oldKeys.push(k);
      oldCounts.push(c - onNew);
    }
    if (onNew > 0) {
      newKeys.push(k);
      newCounts.push(onNew);
    }
  });
  const models: ModelUse[] = [];
  const use = (name: string, keys: number[], counts: number[]): void => {
    if (keys.length === 0) return;
    models.push({
      name,
      count: counts.reduce((s, c) => s + c, 0),
      firstUse: (keys[0] ?? 0) * HOUR,
      hours: { keys, counts },
    });
  };
  use(OLD_MODEL, oldKeys, oldCounts);
  use(NEW_MODEL, newKeys, newCounts);
  const keys = f.hours.keys;
  const labels = f.capabilities.reduce((sum, c) => sum + c.count, 0);
  const perLabel = labels > 0 ? (requests * (f.labelledShare ?? 1)) / labels : 0;
  return {
    id: f.id,
    signupAt: f.signupAt,
    firstSeen: keys.length > 0 ? (keys[0] ?? 0) * HOUR : T0,
    lastSeen: keys.length > 0 ? (keys[keys.length - 1] ?? 0) * HOUR : T0,
    requests,
    hours: f.hours,
    emailDomain: f.emailDomain,
    org: f.org,
    models,
    capabilities: f.capabilities.map((c) => ({
      name: c.name,
      count: Math.round(c.count * perLabel),
    })),
  };
}

/** LinkageInput from fixture accounts (identifiers interned in order of first use). */
export function makeInput(accounts: FixtureAccount[], allowlist: Identifier[] = []): LinkageInput {
  const identifiers: Identifier[] = [];
  const index = new Map<string, number>();
  const la: number[] = [];
  const li: number[] = [];
  const lc: number[] = [];
  accounts.forEach((acc, a) => {
    for (const link of acc.links) {
      const key = `${link.kind}\u0000${link.value}`;
      let i = index.get(key);
      if (i === undefined) {
        i = identifiers.length;
        identifiers.push({ kind: link.kind, value: link.value });
        index.set(key, i);
      }
      la.push(a);
      li.push(i);
      lc.push(link.count ?? 1);
    }
  });
  return {
    accounts: accounts.map(toFacts),
    identifiers: IdentifierTable.of(identifiers),
    linkAccount: Int32Array.from(la),
    linkIdentifier: Int32Array.from(li),
    linkCount: Float64Array.from(lc),
    models: [OLD_MODEL, NEW_MODEL],
    allowlist,
    previousClusters: [],
    previousRunId: null,
  };
}

/** Detection with one community per group of account ids (everyone else -1). */
export function detectionFor(input: LinkageInput, groups: string[][]): Detection {
  const byId = new Map(input.accounts.map((a, i) => [a.id, i]));
  const community = new Int32Array(input.accounts.length).fill(-1);
  groups.forEach((ids, c) => {
    for (const id of ids) {
      const i = byId.get(id);
      if (i === undefined) throw new Error(`no account ${id}`);
      community[i] = c;
    }
  });
  return { community, communityCount: groups.length, modularity: 0, stats: {} };
}

export function background(n: number, seed: number): FixtureAccount[] {
  const r = rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const acc = person(`bg-${i}`, r);
    if (i < EARLY_ADOPTERS) tryOnRelease(acc);
    return acc;
  });
}

/**
 * A few background accounts try the new model in its release hour: a release is when
 * its third account first used it (score option `releaseMinAccounts`), as in real data.
 */
const EARLY_ADOPTERS = 3;

function tryOnRelease(acc: FixtureAccount): void {
  const releaseHour = RELEASE / HOUR;
  const { keys, counts } = acc.hours;
  const at = keys.findIndex((k) => k >= releaseHour);
  const i = at < 0 ? keys.length : at;
  if (keys[i] !== releaseHour) {
    keys.splice(i, 0, releaseHour);
    counts.splice(i, 0, 1);
  }
  acc.newModelShare = (h) => (h === releaseHour ? 1 : 0);
}

/** n unrelated people, each adjustable by `tweak` (the base for one-pattern tests). */
export function people(
  prefix: string,
  n: number,
  seed: number,
  tweak: (acc: FixtureAccount, i: number, r: () => number) => void = () => undefined,
): FixtureAccount[] {
  const r = rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const acc = person(`${prefix}-${i}`, r);
    tweak(acc, i, r);
    return acc;
  });
}

function replaceLinks(acc: FixtureAccount, kind: IdentifierKind, links: Link[]): void {
  acc.links = [...acc.links.filter((l) => l.kind !== kind), ...links];
}

/** Planting helpers, one pattern each. */
export const plant = {
  sharedCard: (card: string) => (acc: FixtureAccount) =>
    replaceLinks(acc, 'payment', [{ kind: 'payment', value: card }]),
  sharedSubnet: (net: string, host: number) => (acc: FixtureAccount) => {
    replaceLinks(acc, 'subnet', [{ kind: 'subnet', value: `${net}.0/24` }]);
    replaceLinks(acc, 'ip', [{ kind: 'ip', value: `${net}.${host}` }]);
  },
  template: (base: string, count: number) => (acc: FixtureAccount, _i: number, r: () => number) =>
    acc.links.push(
      { kind: 'prompt', value: variant(base, 1, r), count },
      { kind: 'prompt', value: variant(base, 2, r), count },
    ),
  capability: (name: string) => (acc: FixtureAccount) => {
    acc.capabilities = [{ name, count: 100 }];
  },
  volume: (factor: number) => (acc: FixtureAccount) => {
    acc.hours = { keys: acc.hours.keys, counts: acc.hours.counts.map((c) => c * factor) };
  },
  burst: (at: number) => (acc: FixtureAccount, i: number) => {
    acc.signupAt = at + i * 10 * 60_000;
  },
  spreadSignups: (days: number, n: number) => (acc: FixtureAccount, i: number) => {
    acc.signupAt = T0 - Math.round(((i + 0.5) / n) * days * DAY);
  },
  sameSchedule: (hours: HourSeries) => (acc: FixtureAccount) => {
    acc.hours = { keys: hours.keys.slice(), counts: hours.counts.slice() };
  },
  aroundTheClock: () => (acc: FixtureAccount, _i: number, r: () => number) => {
    acc.hours = schedule(
      { fromDay: 0, toDay: PERIOD_DAYS, hoursOfDay: ALL_HOURS, dayChance: 0.3, perHour: 1 },
      r,
    );
  },
  officeHours: () => (acc: FixtureAccount, _i: number, r: () => number) => {
    acc.hours = schedule(
      {
        fromDay: 0,
        toDay: PERIOD_DAYS,
        hoursOfDay: slot(9, 8),
        dayChance: 0.5,
        weekdaysOnly: true,
        perHour: 1,
      },
      r,
    );
  },
  /** half the traffic moves to NEW_MODEL from `afterHours` after the release */
  pivot: (afterHours: number, share: number) => (acc: FixtureAccount) => {
    const from = RELEASE / HOUR + afterHours;
    acc.newModelShare = (h) => (h >= from ? share : 0);
  },
  slowAdoption: () => (acc: FixtureAccount, i: number) => {
    // a few adopters try the model in the first days, with a small share of their traffic
    const from = RELEASE / HOUR + 6 + i * 12;
    acc.newModelShare = (h) => (i % 4 === 0 && h >= from ? 0.1 : 0);
  },
  org: (org: string) => (acc: FixtureAccount) => {
    acc.org = org;
  },
  domain: (domain: string) => (acc: FixtureAccount) => {
    acc.emailDomain = domain;
  },
};

/** Apply several planting functions in order. */
export function all(
  ...fns: ((acc: FixtureAccount, i: number, r: () => number) => void)[]
): (acc: FixtureAccount, i: number, r: () => number) => void {
  return (acc, i, r) => {
    for (const fn of fns) fn(acc, i, r);
  };
}

/** An (account, kind, value[, count]) link; count defaults to 1. */
export type LinkRow = [account: number, kind: IdentifierKind, value: string, count?: number];

/** An account with no facts but its id: for tests of build, which reads only links. */
export { bareAccount };

/** A LinkageInput of bare accounts from links; identifiers are de-duplicated. */
export function linksInput(
  accounts: number,
  links: LinkRow[],
  allowlist: Identifier[] = [],
): LinkageInput {
  const identifiers: Identifier[] = [];
  const index = new Map<string, number>();
  const linkIdentifier: number[] = [];
  for (const [, kind, value] of links) {
    const key = `${kind}:${value}`;
    let i = index.get(key);
    if (i === undefined) {
      i = identifiers.length;
      index.set(key, i);
      identifiers.push({ kind, value });
    }
    linkIdentifier.push(i);
  }
  return {
    accounts: Array.from({ length: accounts }, (_, i) => bareAccount(i)),
    identifiers: IdentifierTable.of(identifiers),
    linkAccount: Int32Array.from(links.map(([a]) => a)),
    linkIdentifier: Int32Array.from(linkIdentifier),
    linkCount: Float64Array.from(links.map(([, , , c]) => c ?? 1)),
    models: [],
    allowlist,
    previousClusters: [],
    previousRunId: null,
  };
}

/** The accounts `a` has an edge to in `g`, ascending. */
export function neighbours(g: LinkageGraph, a: number): number[] {
  const out: number[] = [];
  for (let e = 0; e < g.source.length; e++) {
    if (g.source[e] === a) out.push(g.target[e] as number);
    if (g.target[e] === a) out.push(g.source[e] as number);
  }
  return out.sort((x, y) => x - y);
}
