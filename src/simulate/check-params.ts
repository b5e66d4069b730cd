/**
 * Checks a merged parameter table before anything is drawn. Overrides are the public way
 * to change the world (README, bench/quality): a `*PerSubnet` of 0 looped forever, a
 * window shorter than the campaigns' sign-up days left every campaign without events,
 * and a bad start date gave an empty world, all without an error. Each key is checked by
 * the shape of its default, and the few that need more by name; the first problem is
 * thrown, naming the key.
 */
import { EARLIEST_AT, MAX_FUTURE_HOURS } from '../ingest/event-schema';
import type { SimParams } from './params';

/** Numbers that are shares or per-day shares: within [0, 1]. */
const SHARE = /(Share|Max|Fraction|PerDay)$/;
/** Ranges whose values are shares. */
const SHARE_RANGES = new Set(['camouflage', 'fastAdopterTraffic']);
/** Numbers and ranges that must be at least 1 (a count of things that must exist). */
const AT_LEAST_ONE = new Set([
  'days',
  'proxyIpsPerSubnet',
  'campusNatIpsPerSubnet',
  'carrierNatIpsPerSubnet',
  'vpnExitIpsPerSubnet',
  'variantsPerTemplate',
  'variantsPerSmallTemplate',
  'genericPoolSize',
  'templates',
  'subgroupSize',
  'accountsPerPaymentMethod',
  'proxiesPerSubgroup',
  'companySize',
  'officeIps',
  'companyEgressSubnets',
  'campusNatIps',
  'carrierNatIps',
  'vpnExitIps',
  'venueIps',
  'systemWords',
  'wavesPerDay',
  'campaignDevicesPerSubgroup',
  'sharedDeviceLabMachines',
]);

/** Numbers that count whole things, and what they count. */
const WHOLE: Record<string, string> = { companyEgressSubnets: '/24s' };

/** Hours within one day: a burst longer than a day would start before its own day. */
const AT_MOST_A_DAY = new Set(['campaignBurstHours', 'hackathonBurstHours']);

/** Strings drawn from a fixed set. */
const CHOICES: Record<string, readonly string[]> = {
  companyAgentHours: ['office', 'flat', 'clock'],
};

/** `defaults` (the DEFAULTS table, passed in: params.ts imports this module) gives each key's shape. */
export function checkParams(p: SimParams, defaults: SimParams): void {
  for (const key of Object.keys(p)) {
    if (!(key in defaults)) throw new Error(`simulator parameter ${key} is unknown`);
  }
  const groups = Object.keys(defaults.benign);
  for (const [key, def] of Object.entries(defaults)) {
    checkValue(key, (p as Record<string, unknown>)[key], def, groups);
  }
  checkWindow(p);
}

function checkValue(key: string, value: unknown, def: unknown, groups: string[]): void {
  if (typeof def === 'number') return checkNumber(key, value);
  if (typeof def === 'string') {
    const choices = CHOICES[key];
    if (choices && !choices.includes(value as string))
      fail(key, value, `one of ${choices.join(', ')}`);
    if (typeof value !== 'string' || value === '') fail(key, value, 'a non-empty string');
    return;
  }
  if (typeof def === 'boolean') {
    if (typeof value !== 'boolean') fail(key, value, 'true or false');
    return;
  }
  if (key === 'campaigns' || key === 'benign') return checkRecords(key, value, def as object);
  if (key === 'fastAdopterGroups') {
    if (!Array.isArray(value) || value.some((g) => !groups.includes(g as string)))
      fail(key, value, `a list of ${groups.join(', ')}`);
    return;
  }
  if (Array.isArray(def)) return checkRange(key, value);
  checkWeights(key, value);
  // time zones are UTC offsets in hours: a name such as UTC read as NaN hours
  if (key === 'timeZones')
    for (const zone of Object.keys(value as object))
      if (!Number.isFinite(Number(zone)) || Math.abs(Number(zone)) > 14)
        fail(key, value, 'weights keyed by UTC offsets in hours (-14 to 14), such as "5.5"');
}

/** The rules a key follows come from its last part: `campaigns.coding.pivotShare` is a share. */
const rule = (key: string) => key.slice(key.lastIndexOf('.') + 1);

function checkNumber(key: string, value: unknown): void {
  const min = AT_LEAST_ONE.has(rule(key)) ? 1 : 0;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min)
    fail(key, value, `a finite number ≥ ${min}`);
  if (SHARE.test(rule(key)) && value > 1) fail(key, value, 'a share in [0, 1]');
  if (AT_MOST_A_DAY.has(rule(key)) && value > 24) fail(key, value, 'hours within a day (≤ 24)');
  // a /24 gives at most 250 hosts here (identity.ts hostsIn): more shrank the pool silently
  if (rule(key).endsWith('PerSubnet') && value > 250)
    fail(key, value, 'at most 250 (the hosts one /24 gives)');
  const whole = WHOLE[rule(key)];
  if (whole && !Number.isInteger(value)) fail(key, value, `a whole number of ${whole}`);
}

function checkRange(key: string, value: unknown): void {
  const ok =
    Array.isArray(value) &&
    value.length === 2 &&
    value.every((v) => typeof v === 'number' && Number.isFinite(v));
  if (!ok) fail(key, value, 'a range [lo, hi] of two finite numbers');
  const [lo, hi] = value as [number, number];
  const min = AT_LEAST_ONE.has(rule(key)) ? 1 : 0;
  if (lo < min || hi < lo) fail(key, value, `a range with ${min} ≤ lo ≤ hi`);
  if (SHARE_RANGES.has(rule(key)) && hi > 1) fail(key, value, 'a range of shares within [0, 1]');
}

/** Weights to draw from: none negative, at least one above 0. */
function checkWeights(key: string, value: unknown): void {
  const weights = typeof value === 'object' && value !== null ? Object.values(value) : [];
  const ok =
    weights.length > 0 &&
    weights.every((w) => typeof w === 'number' && Number.isFinite(w) && w >= 0) &&
    weights.some((w) => (w as number) > 0);
  if (!ok) fail(key, value, 'weights ≥ 0, at least one above 0');
}

/**
 * Each campaign or group, each field checked against the shape of its default. The
 * campaigns given may be a subset (a world of one campaign); every benign group must be
 * there, as the population draws from each.
 */
function checkRecords(key: string, value: unknown, def: object): void {
  if (typeof value !== 'object' || value === null) fail(key, value, 'an object');
  const given = value as Record<string, Record<string, unknown>>;
  const defaults = def as Record<string, Record<string, unknown>>;
  const known = Object.keys(defaults);
  for (const name of Object.keys(given))
    if (!known.includes(name)) throw new Error(`simulator parameter ${key}.${name} is unknown`);
  const names = key === 'campaigns' ? Object.keys(given) : known;
  for (const name of names) {
    const entry = given[name];
    if (typeof entry !== 'object' || entry === null) fail(`${key}.${name}`, entry, 'an object');
    for (const field of Object.keys(entry))
      if (!(field in (defaults[name] as object)))
        throw new Error(`simulator parameter ${key}.${name}.${field} is unknown`);
    for (const [field, fieldDef] of Object.entries(defaults[name] as object)) {
      const v = entry[field];
      const path = `${key}.${name}.${field}`;
      if (typeof fieldDef === 'number') checkNumber(path, v);
      else if (Array.isArray(fieldDef)) checkRange(path, v);
      else checkWeights(path, v);
    }
  }
}

const DAY_MS = 86_400_000;
const EARLIEST_EVENT_MS = Date.parse(EARLIEST_AT);
const MIN_DAYS = 8;

/** The window holds what happens in it: the release, and every campaign's sign-ups. */
function checkWindow(p: SimParams): void {
  const start = /^\d{4}-\d{2}-\d{2}$/.test(p.startDate)
    ? new Date(`${p.startDate}T00:00:00Z`)
    : null;
  if (!start || Number.isNaN(start.getTime()) || start.toISOString().slice(0, 10) !== p.startDate)
    fail('startDate', p.startDate, 'a date YYYY-MM-DD');
  // Ingest refuses events before 2000 or more than 24 h ahead: such a world would be
  // refused line by line (review, 12-07).
  if (start.getTime() - p.preWindowDays * DAY_MS < EARLIEST_EVENT_MS)
    fail(
      'preWindowDays',
      p.preWindowDays,
      `days that keep sign-ups from 2000-01-01 on (startDate ${p.startDate} less them), as ingest refuses earlier events`,
    );
  if (!Number.isInteger(p.days) || p.days < MIN_DAYS)
    fail(
      'days',
      p.days,
      `a whole number of days, at least ${MIN_DAYS} (a campus burst signs up from day 5 08:00 over 2 days; a hackathon from day 3 lasts 48 h)`,
    );
  if (start.getTime() + p.days * DAY_MS > Date.now() + MAX_FUTURE_HOURS * 3_600_000)
    fail(
      'startDate',
      p.startDate,
      `a date whose ${p.days}-day window ends within ${MAX_FUTURE_HOURS} hours of now, as ingest refuses events further ahead`,
    );
  if (!Number.isInteger(p.releaseDay) || p.releaseDay >= p.days)
    fail('releaseDay', p.releaseDay, `a whole day within the window (below days, ${p.days})`);
  if (p.releaseHourUtc >= 24) fail('releaseHourUtc', p.releaseHourUtc, 'an hour in [0, 24)');
  if (p.campaignSignupDays[1] >= p.days)
    fail('campaignSignupDays', p.campaignSignupDays, `days within the window (below ${p.days})`);
}

function fail(key: string, value: unknown, want: string): never {
  const got = typeof value === 'number' ? String(value) : JSON.stringify(value);
  throw new Error(`simulator parameter ${key} must be ${want}, got ${got}`);
}
