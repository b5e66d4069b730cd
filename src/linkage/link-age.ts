/**
 * Ageing: a link last seen long ago no longer links accounts. An address a customer
 * used last spring may since have been handed to someone else by their ISP, or resold
 * by a proxy pool a ring now rents; kept forever, it binds them to the ring.
 *
 * LINKAGE_LINK_MAX_AGE_DAYS names a maximum age per kind ("ip:90,device:365"); kinds not
 * named never age. Ages are measured back from the newest activity in the graph (the
 * largest Account.lastSeen), not from the clock: a run over the same data links the same
 * accounts whenever it runs, and imported history ages as it did when it was live.
 * Subnet links come from IP links, so they age with them (an aged IP adds nothing to its
 * subnet). Links with no lastSeen (not written by ingest) never age.
 */
import { IDENTIFIER_KINDS, type IdentifierKind } from './types';

export type AgeableKind = Exclude<IdentifierKind, 'subnet'>;

export const AGEABLE_KINDS = IDENTIFIER_KINDS.filter((k): k is AgeableKind => k !== 'subnet');

/** Maximum age in ms per kind; a kind left out never ages. */
export type LinkMaxAge = Partial<Record<AgeableKind, number>>;

export const DAY_MS = 86_400_000;

/** Ten years: anything longer is a typo for "never" (and would pass 2^53 ms in sums). */
const MAX_DAYS = 3650;

/** A quarter of an hour: anything shorter is a typo (1e-9 days would age all but one instant). */
const MIN_DAYS = 0.01;

/**
 * Parses LINKAGE_LINK_MAX_AGE_DAYS ("kind:days,…"; '' or "off": nothing ages) into ms per
 * kind; throws naming the entry at fault.
 */
export function parseLinkMaxAge(spec: string): LinkMaxAge {
  const text = spec.trim();
  if (text === '' || text.toLowerCase() === 'off') return {};
  const out: LinkMaxAge = {};
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    const fail = (why: string): never => {
      throw new Error(`LINKAGE_LINK_MAX_AGE_DAYS entry "${entry}": ${why}`);
    };
    const colon = entry.indexOf(':');
    if (colon < 0) fail('expected kind:days, e.g. ip:90');
    const kind = entry.slice(0, colon).trim();
    const daysText = entry.slice(colon + 1).trim();
    if (kind === 'subnet') fail('subnet links come from IP links and age with them; name ip');
    if (!(AGEABLE_KINDS as readonly string[]).includes(kind))
      fail(`unknown kind; one of ${AGEABLE_KINDS.join(', ')}`);
    const days = /^\d+(\.\d+)?$/.test(daysText) ? Number(daysText) : NaN;
    if (!(days >= MIN_DAYS && days <= MAX_DAYS))
      fail(`days must be a number from ${MIN_DAYS} to ${MAX_DAYS}`);
    if (out[kind as AgeableKind] !== undefined) fail('kind named twice');
    out[kind as AgeableKind] = Math.round(days * DAY_MS);
  }
  return out;
}

export function agesAnything(maxAge: LinkMaxAge): boolean {
  return Object.keys(maxAge).length > 0;
}

/**
 * Per kind, the earliest lastSeen a link may have and still link accounts, `asOf` less the
 * kind's maximum age; null for a kind that never ages. Both page readers take this map.
 */
export function notBefore(asOf: number, maxAge: LinkMaxAge): Record<AgeableKind, number | null> {
  const out = {} as Record<AgeableKind, number | null>;
  for (const kind of AGEABLE_KINDS) {
    const age = maxAge[kind];
    out[kind] = age === undefined ? null : asOf - age;
  }
  return out;
}

/** The ages a run applied: the time they counted back from, and the limit per kind. */
export interface RunAges {
  asOf: number;
  notBefore: Partial<Record<string, number>>;
}

function jsonObject(text: unknown): Record<string, unknown> {
  if (typeof text !== 'string') return {};
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * The ages a run applied, from a query's `run` column: the run's recorded params
 * (`linkMaxAgeDays`) and stats (`extract.agedAsOf`), both JSON text, as the one pair of a
 * `COLLECT { … RETURN [run.params, run.stats] }`. Null when it aged nothing, ran before
 * links aged, or the column is empty.
 */
export function runAges(runColumn: unknown): RunAges | null {
  const pair: unknown = Array.isArray(runColumn) ? runColumn[0] : undefined;
  const [paramsJson, statsJson] = Array.isArray(pair) ? (pair as unknown[]) : [];
  const days = jsonObject(paramsJson).linkMaxAgeDays as Record<string, number> | undefined;
  const extract = jsonObject(statsJson).extract as { agedAsOf?: unknown } | undefined;
  const asOf = extract?.agedAsOf;
  if (typeof asOf !== 'number' || days === null || typeof days !== 'object') return null;
  const notBefore = Object.fromEntries(
    Object.entries(days)
      .filter(([, d]) => typeof d === 'number' && Number.isFinite(d))
      .map(([kind, d]) => [kind, asOf - Math.round(d * DAY_MS)]),
  );
  return { asOf, notBefore };
}

/**
 * Whether the run left a link out as aged, as extract judged it; null when the link, of a
 * kind the run aged, has been seen since the run's newest activity (lastSeen only grows):
 * what it was when the run read it is gone. Links of kinds that never aged, or without
 * lastSeen, were never aged.
 */
export function agedInRun(ages: RunAges | null, kind: string, lastSeen: unknown): boolean | null {
  const since = ages?.notBefore[kind];
  if (ages === null || since === undefined || typeof lastSeen !== 'number') return false;
  return lastSeen > ages.asOf ? null : lastSeen < since;
}

/**
 * Whether the run linked nothing through a row's links, for a row that holds several: its
 * column is one link's lastSeen, a list of them (any one kept links the row: an account's
 * IPs in a subnet), or a list of groups of them (a group counts only if all its links were
 * kept: both accounts' links to one shared card). True when every group lost a link to
 * age, false when one group kept all its links, null when that turns on a link seen again
 * since the run.
 */
export function rowAgedInRun(ages: RunAges | null, kind: string, value: unknown): boolean | null {
  const groups: unknown[][] = Array.isArray(value)
    ? value.map((g) => (Array.isArray(g) ? g : [g]))
    : [[value]];
  let unknown = false;
  for (const group of groups) {
    const marks = group.map((lastSeen) => agedInRun(ages, kind, lastSeen));
    if (marks.includes(true)) continue; // this group lost a link: it linked nothing
    if (marks.includes(null)) unknown = true;
    else return false; // every link of the group kept: the run linked the row through it
  }
  return unknown ? null : groups.length > 0;
}

/**
 * Whether the run linked nothing through a row that needs every one of its links, each
 * of its own kind: a chain of identifiers (`[{kind, lastSeen}, …]`; one link aged breaks
 * it). True when a link was aged, null when none was but one turns on a sighting since
 * the run, false otherwise.
 */
export function chainAgedInRun(ages: RunAges | null, links: unknown): boolean | null {
  if (!Array.isArray(links)) return false;
  let unknown = false;
  for (const link of links) {
    const { kind, lastSeen } = (link ?? {}) as { kind?: unknown; lastSeen?: unknown };
    const mark = agedInRun(ages, String(kind), lastSeen);
    if (mark === true) return true;
    if (mark === null) unknown = true;
  }
  return unknown ? null : false;
}

/**
 * Whether age is why the run linked no two cluster members through a value they share,
 * from their links to it as the query judged them by the run's ages (`sharedAgeParams`):
 * `{links, agedLinks, seenSince}`. A value links a pair only while two of its links are
 * kept. True when fewer than two were kept, false when two were (or there were never two),
 * null when two only with links seen again since the run.
 */
export function sharedAgedInRun(counts: unknown): boolean | null {
  const { links, agedLinks, seenSince } = (counts ?? {}) as Record<string, unknown>;
  if (typeof links !== 'number' || typeof agedLinks !== 'number' || typeof seenSince !== 'number')
    return false;
  if (links < 2) return false;
  const kept = links - agedLinks - seenSince;
  if (kept >= 2) return false;
  return kept + seenSince >= 2 ? null : true;
}

/**
 * The run's ages as a `shared` investigation's query reads them: `$agedAsOf` and, per kind
 * the run aged, `$agedNotBefore[kind]` (a kind missing never aged), with `$runId`, the run
 * they are of, whose clusters the query must read: the pointer may have moved on since
 * (review, 12-07). No ages: nothing aged.
 */
export function sharedAgeParams(
  runId: string | null,
  ages: RunAges | null,
): {
  runId: string | null;
  agedAsOf: number | null;
  agedNotBefore: Record<string, number>;
} {
  if (ages === null) return { runId, agedAsOf: null, agedNotBefore: {} };
  const agedNotBefore = Object.fromEntries(
    Object.entries(ages.notBefore).filter((e): e is [string, number] => typeof e[1] === 'number'),
  );
  return { runId, agedAsOf: ages.asOf, agedNotBefore };
}
