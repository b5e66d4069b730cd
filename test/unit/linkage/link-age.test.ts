/** LINKAGE_LINK_MAX_AGE_DAYS: per kind, how long a link keeps linking (link-age.ts). */
import { loadConfig } from '../../../src/platform/config';
import {
  AGEABLE_KINDS,
  agedInRun,
  chainAgedInRun,
  sharedAgedInRun,
  sharedAgeParams,
  rowAgedInRun,
  notBefore,
  parseLinkMaxAge,
  runAges,
} from '../../../src/linkage/link-age';

const DAY = 86_400_000;

describe('LINKAGE_LINK_MAX_AGE_DAYS', () => {
  it('ages IP links after 90 days by default, and nothing else', () => {
    expect(parseLinkMaxAge(loadConfig({}).LINKAGE_LINK_MAX_AGE_DAYS)).toEqual({ ip: 90 * DAY });
  });

  it('reads kind:days entries, spaces and fractions of a day allowed', () => {
    expect(parseLinkMaxAge(' ip:30 , device: 365,prompt:0.5')).toEqual({
      ip: 30 * DAY,
      device: 365 * DAY,
      prompt: DAY / 2,
    });
  });

  it.each(['', '  ', 'off', 'OFF'])('%j ages nothing', (spec) => {
    expect(parseLinkMaxAge(spec)).toEqual({});
  });

  it.each([
    ['ip', /expected kind:days/],
    ['ipp:30', /unknown kind; one of payment, device, ip, email_domain, prompt, org/],
    ['subnet:30', /subnet links come from IP links and age with them/],
    ['ip:0', /days must be a number from 0.01 to 3650/],
    ['ip:0.000000001', /days must be a number from 0.01 to 3650/],
    ['ip:-3', /days must be a number from 0.01/],
    ['ip:1e3', /days must be a number from 0.01/],
    ['ip:thirty', /days must be a number from 0.01/],
    ['ip:3651', /to 3650/],
    ['ip:30,ip:60', /entry "ip:60": kind named twice/],
    ['ip:30,', /entry "": expected kind:days/],
  ])('refuses %j', (spec, message) => {
    expect(() => parseLinkMaxAge(spec)).toThrow(message);
  });

  it('gives each kind the earliest lastSeen that still links, null for kinds that never age', () => {
    const asOf = Date.UTC(2026, 10, 1);
    const since = notBefore(asOf, { ip: 90 * DAY, payment: DAY });
    expect(Object.keys(since).sort()).toEqual([...AGEABLE_KINDS].sort());
    expect(since).toEqual({
      payment: asOf - DAY,
      device: null,
      ip: asOf - 90 * DAY,
      email_domain: null,
      prompt: null,
      org: null,
    });
  });

  it("reads a run's ages back from its recorded params and stats, as extract applied them", () => {
    const asOf = Date.UTC(2026, 10, 1);
    const params = JSON.stringify({ seed: 42, linkMaxAgeDays: { ip: 90, prompt: 0.5 } });
    const stats = JSON.stringify({ extract: { agedLinks: 3, agedAsOf: asOf } });
    const ages = runAges([[params, stats]]); // as a query's COLLECT { … } column
    expect(ages).toEqual({
      asOf,
      notBefore: { ip: asOf - 90 * DAY, prompt: asOf - DAY / 2 },
    });
    const limit = asOf - 90 * DAY;
    expect(agedInRun(ages, 'ip', limit - 1)).toBe(true);
    expect(agedInRun(ages, 'ip', limit)).toBe(false); // as extract: older than, not as old as
    expect(agedInRun(ages, 'payment', 0)).toBe(false); // a kind the run did not age
    expect(agedInRun(ages, 'ip', null)).toBe(false); // no lastSeen: never aged
    expect(agedInRun(ages, 'ip', asOf + 1)).toBeNull(); // seen since the run: not known
    expect(agedInRun(ages, 'payment', asOf + 1)).toBe(false);
    // An age that is not a number (never written by a run) ages nothing, rather than all.
    const odd = runAges([['{"linkMaxAgeDays":{"ip":null,"device":"x"}}', stats]]);
    expect(odd?.notBefore).toEqual({});
    expect(agedInRun(odd, 'ip', 0)).toBe(false);
  });

  it.each([
    ['no ages recorded (a run from before ageing)', '{}', '{"extract":{"agedAsOf":5}}'],
    ['no agedAsOf (nothing aged)', '{"linkMaxAgeDays":{"ip":90}}', '{"extract":{}}'],
    ['params not JSON', '{oops', '{"extract":{"agedAsOf":5}}'],
    ['stats missing', '{"linkMaxAgeDays":{"ip":90}}', null],
  ])('marks nothing for a run with %s', (_why, params, stats) => {
    const ages = runAges([[params, stats]]);
    expect(ages).toBeNull();
    expect(agedInRun(ages, 'ip', 0)).toBe(false);
  });

  it.each([
    ['no column (an older query)', undefined],
    ['no run (pruned since)', []],
    ['a pair that is not a list', ['{"linkMaxAgeDays":{"ip":90}}']],
  ])('marks nothing when the run column has %s', (_why, column) => {
    expect(runAges(column)).toBeNull();
  });
});

describe('sharedAgedInRun: a value links two members while two of their links are kept', () => {
  const counts = (links: number, agedLinks: number, seenSince = 0) => ({
    links,
    agedLinks,
    seenSince,
  });

  it('is aged when fewer than two links were kept, not when two were', () => {
    expect(sharedAgedInRun(counts(3, 1))).toBe(false);
    expect(sharedAgedInRun(counts(3, 2))).toBe(true);
    expect(sharedAgedInRun(counts(2, 2))).toBe(true);
    expect(sharedAgedInRun(counts(6, 0))).toBe(false);
  });

  it('is null when two kept turns on links seen again since the run', () => {
    expect(sharedAgedInRun(counts(3, 1, 1))).toBeNull();
    expect(sharedAgedInRun(counts(2, 0, 2))).toBeNull();
    expect(sharedAgedInRun(counts(3, 2, 1))).toBe(true); // one at most
    expect(sharedAgedInRun(counts(3, 0, 1))).toBe(false);
  });

  it('marks nothing under two links or without counts', () => {
    expect(sharedAgedInRun(counts(1, 1))).toBe(false); // never two: age changed nothing
    expect(sharedAgedInRun(null)).toBe(false);
    expect(sharedAgedInRun({ links: 3, agedLinks: '3', seenSince: 0 })).toBe(false);
  });

  it("passes the run's ages to the query: asOf and each aged kind's earliest kept lastSeen", () => {
    const asOf = Date.UTC(2026, 10, 1);
    const ages = runAges([
      [
        JSON.stringify({ linkMaxAgeDays: { ip: 1, payment: 2 } }),
        JSON.stringify({ extract: { agedAsOf: asOf } }),
      ],
    ]);
    expect(sharedAgeParams('r-1', ages)).toEqual({
      runId: 'r-1',
      agedAsOf: asOf,
      agedNotBefore: { ip: asOf - DAY, payment: asOf - 2 * DAY },
    });
    expect(sharedAgeParams(null, null)).toEqual({ runId: null, agedAsOf: null, agedNotBefore: {} });
  });
});

describe('chainAgedInRun: a row that needs every one of its links, each of its own kind', () => {
  const asOf = Date.UTC(2026, 10, 1);
  const ages = runAges([
    [
      JSON.stringify({ linkMaxAgeDays: { ip: 1 } }),
      JSON.stringify({ extract: { agedAsOf: asOf } }),
    ],
  ]);
  const link = (kind: string, lastSeen: number | null) => ({ kind, lastSeen });
  const kept = asOf - DAY / 2;
  const old = asOf - 2 * DAY;

  it('one aged link breaks the chain; kinds the run did not age never do', () => {
    expect(chainAgedInRun(ages, [link('payment', old), link('ip', kept)])).toBe(false);
    expect(chainAgedInRun(ages, [link('payment', old), link('ip', old)])).toBe(true);
    expect(chainAgedInRun(ages, [link('ip', asOf + 1), link('subnet', old)])).toBeNull();
    expect(chainAgedInRun(ages, [link('ip', asOf + 1), link('ip', old)])).toBe(true);
    expect(chainAgedInRun(ages, [link('ip', null)])).toBe(false); // no lastSeen: never aged
  });

  it('without ages, or without a list, nothing is marked', () => {
    expect(chainAgedInRun(null, [link('ip', old)])).toBe(false);
    expect(chainAgedInRun(ages, null)).toBe(false);
    expect(chainAgedInRun(ages, [])).toBe(false);
  });
});

describe('rowAgedInRun: a row of several links (review, 12-06)', () => {
  const asOf = Date.UTC(2026, 10, 1);
  const ages = runAges([
    [
      JSON.stringify({ linkMaxAgeDays: { ip: 1, payment: 1 } }),
      JSON.stringify({ extract: { agedAsOf: asOf } }),
    ],
  ]);
  const kept = asOf - DAY / 2;
  const old = asOf - 2 * DAY;
  const since = asOf + 1;

  it('one link: as agedInRun', () => {
    expect(rowAgedInRun(ages, 'ip', old)).toBe(true);
    expect(rowAgedInRun(ages, 'ip', kept)).toBe(false);
    expect(rowAgedInRun(ages, 'ip', since)).toBeNull();
    expect(rowAgedInRun(ages, 'ip', null)).toBe(false); // no lastSeen: never aged
  });

  it('a list: any link kept links the row, even beside one seen since the run', () => {
    expect(rowAgedInRun(ages, 'ip', [old, old])).toBe(true);
    expect(rowAgedInRun(ages, 'ip', [old, kept])).toBe(false);
    expect(rowAgedInRun(ages, 'ip', [since, kept])).toBe(false); // was null on the max alone
    expect(rowAgedInRun(ages, 'ip', [since, old])).toBeNull();
    expect(rowAgedInRun(ages, 'ip', [old, null])).toBe(false);
  });

  it("groups: a shared card counts only when both accounts' links were kept", () => {
    // the given account's link aged, the other's kept: the run did not link them by it
    expect(rowAgedInRun(ages, 'payment', [[old, kept]])).toBe(true);
    expect(
      rowAgedInRun(ages, 'payment', [
        [old, kept],
        [kept, old],
      ]),
    ).toBe(true);
    expect(
      rowAgedInRun(ages, 'payment', [
        [old, kept],
        [kept, kept],
      ]),
    ).toBe(false);
    expect(rowAgedInRun(ages, 'payment', [[kept, since]])).toBeNull();
    expect(rowAgedInRun(ages, 'payment', [[old, since]])).toBe(true); // one link aged is enough
    // a kind the run did not age: nothing marked
    expect(rowAgedInRun(ages, 'device', [[old, old]])).toBe(false);
    expect(rowAgedInRun(null, 'payment', [[old, old]])).toBe(false);
  });
});
