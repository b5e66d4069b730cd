// Simulator overrides are checked before anything is drawn (review: a *PerSubnet of 0
// looped forever, a 30-day window left every campaign without events, a bad start date
// gave an empty world, and none of them was an error).
import { DEFAULTS, effectiveParams, type SimParams } from '../../../src/simulate/params';

const refused = (overrides: Record<string, unknown>) => {
  try {
    effectiveParams(0.01, 1, overrides as Partial<SimParams>);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
};

describe('simulator parameter checks', () => {
  it('takes the defaults and a few legitimate overrides', () => {
    expect(refused({})).toBeNull();
    expect(refused({ days: 120, releaseDay: 100, startDate: '2024-02-29' })).toBeNull();
    expect(refused({ companyAgentShare: 0.5, companyEgressSubnets: 20 })).toBeNull();
    const campaigns = Object.fromEntries(
      Object.entries(DEFAULTS.campaigns).map(([k, v]) => [k, { ...v, camouflage: [0.5, 0.9] }]),
    );
    expect(refused({ campaigns })).toBeNull();
  });

  it.each([
    [{ days: 30 }, 'releaseDay must be a whole day within the window'],
    [{ days: 65, releaseDay: 10 }, 'campaignSignupDays must be days within the window'],
    [{ days: 90.5 }, 'days must be a whole number'],
    [{ proxyIpsPerSubnet: 0 }, 'proxyIpsPerSubnet must be a finite number ≥ 1, got 0'],
    [{ vpnExitIpsPerSubnet: 0 }, 'vpnExitIpsPerSubnet must be a finite number ≥ 1'],
    // a /24 gives 250 hosts: 400 built one /24 of 250 (review, 12-07)
    [{ proxyIpsPerSubnet: 400 }, 'proxyIpsPerSubnet must be at most 250 (the hosts one /24 gives)'],
    [{ startDate: '2026-02-30' }, 'startDate must be a date YYYY-MM-DD'],
    [{ startDate: '2026-02-01x' }, 'startDate must be a date YYYY-MM-DD'],
    [{ deviceShare: NaN }, 'deviceShare must be a finite number ≥ 0, got NaN'],
    [{ crossCellCardShare: 2 }, 'crossCellCardShare must be a share in [0, 1], got 2'],
    [{ releaseHourUtc: 24 }, 'releaseHourUtc must be an hour in [0, 24)'],
    [{ companySize: [60, 10] }, 'companySize must be a range with 1 ≤ lo ≤ hi'],
    [{ fastAdopterTraffic: [0.5, 1.5] }, 'fastAdopterTraffic must be a range of shares'],
    [{ wavesPerDay: [0, 24] }, 'wavesPerDay must be a range with 1 ≤ lo ≤ hi'],
    [{ timeZones: { '0': 0 } }, 'timeZones must be weights ≥ 0, at least one above 0'],
    [{ fastAdopterGroups: ['company', 'nobody'] }, 'fastAdopterGroups must be a list of'],
    [{ newModel: '' }, 'newModel must be a non-empty string'],
    [{ campaignOfficeHours: 1 }, 'campaignOfficeHours must be true or false'],
    // a second review's: each passed the first check and made a wrong world or a bare error
    [{ timeZones: { UTC: 1 } }, 'timeZones must be weights keyed by UTC offsets'],
    [{ companyAgentHours: 'Flat' }, 'companyAgentHours must be one of office, flat, clock'],
    [{ sharedDeviceLabMachines: 0 }, 'sharedDeviceLabMachines must be a finite number ≥ 1'],
    [{ campaignDevicesPerSubgroup: [0, 4] }, 'campaignDevicesPerSubgroup must be a range with 1'],
    [{ campaignBurstHours: 30 }, 'campaignBurstHours must be hours within a day'],
    [{ companyEgressSubnets: 0 }, 'companyEgressSubnets must be a finite number ≥ 1'],
    [{ companyEgressSubnets: 1.5 }, 'companyEgressSubnets must be a whole number of /24s'],
    [{ subgroupSize: [20, 150] }, 'subgroupSize is unknown'], // a campaign field, not top level
    [{ bogus: 1 }, 'bogus is unknown'],
    // a third review's (12-07): worlds whose every line ingest refuses, or accounts without events
    [
      { startDate: '1990-01-01' },
      'preWindowDays must be days that keep sign-ups from 2000-01-01 on',
    ],
    [{ preWindowDays: 12_000 }, 'preWindowDays must be days that keep sign-ups from 2000-01-01 on'],
    [
      { startDate: '2999-01-01' },
      'startDate must be a date whose 90-day window ends within 24 hours',
    ],
    [
      { days: 7, releaseDay: 0, campaignSignupDays: [0, 0] },
      'days must be a whole number of days, at least 8',
    ],
  ])('refuses %j', (overrides, message) => {
    expect(refused(overrides)).toContain(`simulator parameter ${message}`);
  });

  it('checks every campaign and benign group field, naming it', () => {
    const with_ = (name: string, field: string, value: unknown) => ({
      campaigns: {
        ...DEFAULTS.campaigns,
        [name]: { ...DEFAULTS.campaigns.coding, [field]: value },
      },
    });
    expect(refused(with_('coding', 'pivotShare', 1.5))).toContain(
      'campaigns.coding.pivotShare must be a share in [0, 1], got 1.5',
    );
    expect(refused(with_('agentic', 'requests', -1))).toContain(
      'campaigns.agentic.requests must be a finite number ≥ 0, got -1',
    );
    expect(refused(with_('reasoning', 'subgroupSize', [150, 20]))).toContain(
      'campaigns.reasoning.subgroupSize must be a range with 1 ≤ lo ≤ hi',
    );
    expect(refused(with_('reasoning', 'capabilities', { coding: -1 }))).toContain(
      'campaigns.reasoning.capabilities must be weights',
    );
    expect(refused(with_('reasoning', 'extra', 1))).toContain(
      'campaigns.reasoning.extra is unknown',
    );
    // a subset of the campaigns is a world of those (every benign group must be there)
    expect(refused({ campaigns: { reasoning: DEFAULTS.campaigns.reasoning } })).toBeNull();
    const { vpn: _vpn, ...withoutVpn } = DEFAULTS.benign;
    expect(refused({ benign: withoutVpn })).toContain('benign.vpn must be an object');
    expect(
      refused({ benign: { ...DEFAULTS.benign, vpn: { accounts: 10, units: 1, requests: -5 } } }),
    ).toContain('benign.vpn.requests must be a finite number ≥ 0, got -5');
  });
});
