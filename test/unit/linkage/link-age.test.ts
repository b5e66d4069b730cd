/** LINKAGE_LINK_MAX_AGE_DAYS: per kind, how long a link keeps linking (link-age.ts). */
import { loadConfig } from '../../../src/platform/config';
import { AGEABLE_KINDS, notBefore, parseLinkMaxAge } from '../../../src/linkage/link-age';

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
});
