/** LINKAGE_WEIGHTS: partial overrides of the weight tables, refused with the key at fault. */
import { loadConfig } from '../../../src/platform/config';
import { scoreOptions } from '../../../src/linkage/score';
import { ramp, rampLog } from '../../../src/linkage/signals/numbers';
import {
  buildOverrides,
  checkLinkageConfig,
  parseWeightOverrides,
  scoreOverrides,
} from '../../../src/linkage/settings';
import { DEFAULTS, resolveBuildOptions } from '../../../src/linkage/weights';

describe('LINKAGE_WEIGHTS', () => {
  it('is empty by default: the DEFAULTS tables stand', () => {
    const o = parseWeightOverrides('');
    expect(o).toEqual({});
    expect(resolveBuildOptions(buildOverrides(o))).toEqual(DEFAULTS.build);
    expect(scoreOptions(scoreOverrides(o))).toEqual(scoreOptions());
  });

  it('overrides single entries; the rest of each table keeps its default', () => {
    const o = parseWeightOverrides(
      JSON.stringify({
        build: { kindWeight: { ip: 0.2 }, corroborationBonus: 1 },
        score: { bias: -5, weights: { signup_burst: 3 }, ramps: { requests_ratio: [3, 30] } },
      }),
    );
    const build = resolveBuildOptions(buildOverrides(o));
    expect(build.kindWeight).toEqual({ ...DEFAULTS.build.kindWeight, ip: 0.2 });
    expect(build.corroborationBonus).toBe(1);
    const score = scoreOptions(scoreOverrides(o));
    expect(score.bias).toBe(-5);
    expect(score.weights).toEqual({ ...scoreOptions().weights, signup_burst: 3 });
    expect(score.ramps.requests_ratio).toEqual([3, 30]);
    expect(score.ramps.signup_burst_share).toEqual(scoreOptions().ramps.signup_burst_share);
  });

  it.each([
    ['not JSON', '{build:', /must be a JSON object/],
    ['an unknown kind', '{"build":{"kindWeight":{"ipp":1}}}', /LINKAGE_WEIGHTS\.build\.kindWeight/],
    ['an unknown signal', '{"score":{"weights":{"vibes":1}}}', /LINKAGE_WEIGHTS\.score\.weights/],
    [
      'a negative weight',
      '{"build":{"kindWeight":{"ip":-1}}}',
      /LINKAGE_WEIGHTS\.build\.kindWeight\.ip/,
    ],
    ['a knob that is not open', '{"build":{"seed":1}}', /LINKAGE_WEIGHTS\.build/],
    ['an unknown section', '{"detect":{}}', /LINKAGE_WEIGHTS/],
    [
      'a ramp that is not a pair',
      '{"score":{"ramps":{"requests_ratio":[1]}}}',
      /ramps\.requests_ratio/,
    ],
    ['a string for a number', '{"score":{"bias":"-4"}}', /LINKAGE_WEIGHTS\.score\.bias/],
    [
      'a ramp whose ends are equal (0/0 at its end)',
      '{"score":{"ramps":{"pivot_share_24h":[0,0]}}}',
      /ramps\.pivot_share_24h: lo and hi must differ/,
    ],
    [
      'a log-scale ramp from 0',
      '{"score":{"ramps":{"payment_mean_shared_accounts":[0,20]}}}',
      /ramps\.payment_mean_shared_accounts: a log-scale ramp needs lo and hi > 0/,
    ],
    [
      'corroborationMin 0 (every family with no evidence would corroborate)',
      '{"build":{"corroborationMin":0}}',
      /LINKAGE_WEIGHTS\.build\.corroborationMin/,
    ],
    ['kindCap 0 (no kind could add evidence)', '{"build":{"kindCap":0}}', /build\.kindCap/],
    [
      'a maxExpandDegree above 1000 (d² pairs from one value)',
      '{"build":{"maxExpandDegree":1001}}',
      /LINKAGE_WEIGHTS\.build\.maxExpandDegree/,
    ],
    [
      'a rising ramp reversed',
      '{"score":{"ramps":{"template_top_share":[0.8,0.2]}}}',
      /ramps\.template_top_share: this ramp rises .*lo must be below hi/,
    ],
    [
      'the sign-up batch ramp reversed (fewer subnets a member would count more)',
      '{"score":{"ramps":{"subnet_shared_per_member_batch":[5,2]}}}',
      /ramps\.subnet_shared_per_member_batch: this ramp rises .*lo must be below hi/,
    ],
    [
      'the sign-up batch ramp from below 0 (a cluster on no shared subnet would count)',
      '{"score":{"ramps":{"subnet_shared_per_member_batch":[-1,5]}}}',
      /ramps\.subnet_shared_per_member_batch: lo and hi must be ≥ 0/,
    ],
    [
      'a falling ramp (weekend_share) reversed',
      '{"score":{"ramps":{"weekend_share":[0.12,0.28]}}}',
      /ramps\.weekend_share: this ramp falls .*lo must be above hi/,
    ],
    [
      'a rising share ramp from below 0 (no sign-up data at all would be full strength)',
      '{"score":{"ramps":{"signup_burst_share":[-1,0]}}}',
      /ramps\.signup_burst_share: lo and hi must be within \[0, 1\]/,
    ],
    [
      'a share ramp past 1 (org_share could never count)',
      '{"score":{"ramps":{"org_share":[1.5,2]}}}',
      /ramps\.org_share: lo and hi must be within \[0, 1\]/,
    ],
    [
      'a falling share ramp past 1 (every weekend share would be full strength)',
      '{"score":{"ramps":{"weekend_share":[2,1]}}}',
      /ramps\.weekend_share: lo and hi must be within \[0, 1\]/,
    ],
    [
      'an office-hours ramp from below a flat day (10/24): round-the-clock work would be credited (review, 12-06)',
      '{"score":{"ramps":{"office_window_share":[0.2,0.92]}}}',
      /ramps\.office_window_share: lo and hi must be within \[10\/24, 1\]: with any activity office_window_share is at least 10\/24/,
    ],
    [
      'a ramp over days from below 0 (sign-ups on one day would count as a little spread)',
      '{"score":{"ramps":{"signup_span_days":[-10,90]}}}',
      /ramps\.signup_span_days: lo and hi must be ≥ 0/,
    ],
    [
      'reasonMinStrength 0 (every code would be a reason)',
      '{"score":{"reasonMinStrength":0}}',
      /LINKAGE_WEIGHTS\.score\.reasonMinStrength/,
    ],
    [
      'a weight past 1,000 (review: corroborationBonus 1e308 made Infinity edge weights)',
      '{"build":{"corroborationBonus":1e308}}',
      /LINKAGE_WEIGHTS\.build\.corroborationBonus/,
    ],
    [
      'a kind weight past 1,000',
      '{"build":{"kindWeight":{"payment":1e300},"kindCap":1000}}',
      /build\.kindWeight\.payment/,
    ],
    ['a kindCap past 1,000', '{"build":{"kindCap":1e10}}', /build\.kindCap/],
    [
      'a score weight past 1,000',
      '{"score":{"weights":{"signup_burst":1001}}}',
      /score\.weights\.signup_burst/,
    ],
    ['a bias past ±1,000', '{"score":{"bias":-1e6}}', /score\.bias/],
  ])('refuses %s, naming the key', (_name, spec, message) => {
    expect(() => parseWeightOverrides(spec)).toThrow(message);
  });

  it('accepts the bounds the refusals leave open', () => {
    expect(DEFAULTS.build.maxExpandDegree).toBeLessThanOrEqual(1000);
    const o = parseWeightOverrides(
      JSON.stringify({
        build: {
          maxExpandDegree: 1000,
          kindCap: 0.5,
          corroborationBonus: 1000,
          corroborationMin: 0.01,
          minProposeWeight: 0.01,
        },
        score: {
          reasonMinStrength: 1,
          ramps: {
            weekend_share: [1, 0],
            org_share: [0.5, 1],
            signup_burst_share: [0, 0.5],
            signup_span_days: [0, 400],
            office_window_share: [10 / 24, 1],
            // SIGNALS.md: the way to turn the harvest gate off
            harvest_evidence: [-1, 0],
          },
        },
      }),
    );
    expect(resolveBuildOptions(buildOverrides(o)).maxExpandDegree).toBe(1000);
    expect(scoreOptions(scoreOverrides(o)).ramps.weekend_share).toEqual([1, 0]);
    expect(scoreOptions(scoreOverrides(o)).ramps.harvest_evidence).toEqual([-1, 0]);
  });

  it('refuses coSignupMinSubnets above coUseMaxPerKind, which would turn the sign-up rule off silently', () => {
    expect(() => parseWeightOverrides('{"build":{"coSignupMinSubnets":9}}')).toThrow(
      /build\.coSignupMinSubnets: coSignupMinSubnets must be ≤ coUseMaxPerKind: coSignupMinSubnets \(9\) > coUseMaxPerKind \(8, the default\)/,
    );
    expect(() => parseWeightOverrides('{"build":{"coUseMaxPerKind":5}}')).toThrow(
      /coSignupMinSubnets \(6, the default\) > coUseMaxPerKind \(5\)/,
    );
    for (const build of [
      { coSignupMinSubnets: 8 },
      { coUseMaxPerKind: 5, coSignupWindowHours: 0 }, // the rule off, said so
      { coUseMaxPerKind: 5, coActivityBands: 0, coUseWeight: 0 },
      { coSignupMinSubnets: 2 },
    ]) {
      expect(() => parseWeightOverrides(JSON.stringify({ build }))).not.toThrow();
    }
    expect(() => parseWeightOverrides('{"build":{"coSignupWindowHours":-1}}')).toThrow(
      /coSignupWindowHours/,
    );
  });

  it('refuses coUseMinSubnets above coUseMaxPerKind, which would turn co-use off silently (review, 12-05)', () => {
    // A pair shares at most coUseMaxPerKind subnets: 9 of 8 can never be met.
    expect(() => parseWeightOverrides('{"build":{"coUseMinSubnets":9}}')).toThrow(
      /build\.coUseMinSubnets: coUseMinSubnets must be ≤ coUseMaxPerKind: coUseMinSubnets \(9\) > coUseMaxPerKind \(8, the default\)/,
    );
    expect(() => parseWeightOverrides('{"build":{"coUseMaxPerKind":3}}')).toThrow(
      /build\.coUseMaxPerKind: .*coUseMinSubnets \(4, the default\) > coUseMaxPerKind \(3\)/,
    );
    for (const build of [
      { coUseMinSubnets: 8 },
      { coUseMinSubnets: 12, coUseMaxPerKind: 16 },
      { coUseMaxPerKind: 0 }, // co-use off, said so
    ]) {
      expect(() => parseWeightOverrides(JSON.stringify({ build }))).not.toThrow();
    }
  });

  it('refuses a subnet or prompt cap under corroborationMin while co-use is on (review, 12-06)', () => {
    // co-use pairs are prompt and subnet evidence capped at kindCap × kindWeight (0.15 for
    // subnets): under corroborationMin they could never corroborate, and no pair would link
    expect(() => parseWeightOverrides('{"build":{"kindWeight":{"subnet":0.08}}}')).toThrow(
      /build\.kindWeight\.subnet: kindCap × kindWeight\.subnet \(1 × 0\.08\) must be ≥ corroborationMin \(0\.1\)/,
    );
    expect(() => parseWeightOverrides('{"build":{"kindCap":0.5}}')).toThrow(
      /build\.kindCap: kindCap × kindWeight\.subnet \(0\.5 × 0\.15\)/,
    );
    expect(() =>
      parseWeightOverrides('{"build":{"kindWeight":{"subnet":0.08},"weakOnlyMin":0.5}}'),
    ).toThrow(/build\.kindWeight\.subnet: /);
    expect(() => parseWeightOverrides('{"build":{"corroborationMin":0.16}}')).toThrow(
      /build\.corroborationMin: .*\(1 × 0\.15\) must be ≥ corroborationMin \(0\.16\)/,
    );
    expect(() =>
      parseWeightOverrides('{"build":{"kindWeight":{"prompt":0.05},"minProposeWeight":0.05}}'),
    ).toThrow(/build\.kindWeight\.prompt: kindCap × kindWeight\.prompt/);
    // co-use off (either way), or the caps raised with it: accepted
    for (const build of [
      { kindWeight: { subnet: 0.08 }, coUseMaxPerKind: 0 },
      { kindWeight: { subnet: 0.08 }, coUseWeight: 0, coActivityBands: 0 },
      { corroborationMin: 0.16, kindCap: 2 },
      { kindWeight: { subnet: 0.12 } },
      // the weak-only rule keeps a co-use pair: 0.08 + 0.35 ≥ 0.2 (second review, 12-06)
      { kindWeight: { subnet: 0.08 }, weakOnlyMin: 0.2 },
    ]) {
      expect(() => parseWeightOverrides(JSON.stringify({ build }))).not.toThrow();
    }
  });

  it('refuses co-activity settings under which it could link no one (review, 12-06)', () => {
    // subnet evidence capped at 0.08 < corroborationMin: one family only, never kept
    expect(() =>
      parseWeightOverrides('{"build":{"kindWeight":{"subnet":0.08},"coUseWeight":0}}'),
    ).toThrow(
      /build\.kindWeight\.subnet: a pair only co-activity links gets 0\.08 of subnet evidence .* and 0\.25 of activity .* both must be ≥ corroborationMin \(0\.1\) while co-activity is on/,
    );
    expect(() => parseWeightOverrides('{"build":{"coActivityWeight":0.05}}')).toThrow(
      /build\.coActivityWeight: a pair only co-activity links gets 0\.05 of subnet evidence/,
    );
    // the weight itself bounds both parts: 0.05 + 0.05 < 0.2, and kindCap 2 does not help
    expect(() =>
      parseWeightOverrides('{"build":{"coActivityWeight":0.05,"weakOnlyMin":0.2}}'),
    ).toThrow(/coActivityWeight/);
    expect(() =>
      parseWeightOverrides('{"build":{"kindCap":2,"coActivityWeight":0.06,"coUseWeight":0}}'),
    ).toThrow(/coActivityWeight/);
    // co-activity reads co-use's subnets: its minimum must be reachable too
    expect(() => parseWeightOverrides('{"build":{"coUseWeight":0,"coUseMinSubnets":9}}')).toThrow(
      /coUseMinSubnets must be ≤ coUseMaxPerKind/,
    );
    expect(() => parseWeightOverrides('{"build":{"coActivityMinJaccard":0}}')).toThrow(
      /coActivityMinJaccard/,
    );
    expect(() => parseWeightOverrides('{"build":{"coActivityBands":17}}')).toThrow(
      /coActivityBands/,
    );
    // four subnets each with 30 % of an account's traffic cannot exist
    expect(() => parseWeightOverrides('{"build":{"coUseMinSubnetShare":0.3}}')).toThrow(
      /build\.coUseMinSubnetShare: coUseMinSubnets × coUseMinSubnetShare \(4 × 0\.3\) must be ≤ 1/,
    );
    // the activity part (the weight itself) is short: the weight is named, not kindCap
    expect(() => parseWeightOverrides('{"build":{"corroborationMin":0.3,"kindCap":2}}')).toThrow(
      /build\.coActivityWeight: a pair only co-activity links/,
    );
    for (const build of [
      { coActivityWeight: 0.05, coActivityBands: 0 }, // off
      { coActivityWeight: 0 }, // off
      { coActivityWeight: 0.05, weakOnlyMin: 0.1 }, // 0.05 + 0.05 ≥ 0.1
      { coActivityBands: 16, coActivityMinHours: 12, coActivityMinJaccard: 0.5 },
      { coUseMinSubnetShare: 0.25 }, // 4 × 0.25 = 1: four even subnets
      { corroborationMin: 0.3, kindCap: 2, coActivityWeight: 0.3 }, // README's example
      // each part exactly at corroborationMin
      {
        corroborationMin: 0.35,
        coActivityWeight: 0.35,
        kindWeight: { subnet: 0.35, prompt: 0.35 },
      },
    ]) {
      expect(() => parseWeightOverrides(JSON.stringify({ build }))).not.toThrow();
    }
  });

  it('refuses minProposeWeight above corroborationMin, each overridden or at its default', () => {
    expect(DEFAULTS.build.minProposeWeight).toBeLessThanOrEqual(DEFAULTS.build.corroborationMin);
    // both overridden
    expect(() =>
      parseWeightOverrides('{"build":{"minProposeWeight":0.3,"corroborationMin":0.2}}'),
    ).toThrow(
      /LINKAGE_WEIGHTS\.build\.minProposeWeight: minProposeWeight must be ≤ corroborationMin: minProposeWeight \(0\.3\) > corroborationMin \(0\.2\)/,
    );
    // one overridden, the other at its default (0.1): the error says which is which
    expect(() => parseWeightOverrides('{"build":{"minProposeWeight":0.2}}')).toThrow(
      /build\.minProposeWeight: .*minProposeWeight \(0\.2\) > corroborationMin \(0\.1, the default\)/,
    );
    expect(() => parseWeightOverrides('{"build":{"corroborationMin":0.05}}')).toThrow(
      /build\.corroborationMin: .*minProposeWeight \(0\.1, the default\) > corroborationMin \(0\.05\)/,
    );
    // equal is allowed, and so is lowering both together
    for (const build of [
      { minProposeWeight: 0.2, corroborationMin: 0.2, kindCap: 2 },
      { minProposeWeight: 0.05, corroborationMin: 0.05 },
      { corroborationMin: 0.3, coUseMaxPerKind: 0 },
      { minProposeWeight: 0 },
    ]) {
      const o = parseWeightOverrides(JSON.stringify({ build }));
      const resolved = resolveBuildOptions(buildOverrides(o));
      expect(resolved.minProposeWeight).toBeLessThanOrEqual(resolved.corroborationMin);
    }
  });

  it('accepts every default ramp; a ramp is in [0, 1] whatever reaches it', () => {
    const ramps = scoreOptions().ramps;
    expect(parseWeightOverrides(JSON.stringify({ score: { ramps } })).score?.ramps).toEqual(ramps);
    for (const x of [NaN, -Infinity, -1, 0, 0.5, 1, Infinity]) {
      for (const [lo, hi] of [
        [0, 1],
        [1, 0],
        [0, 0],
      ] as const) {
        const t = ramp(x, lo, hi);
        expect(t >= 0 && t <= 1).toBe(true);
      }
      const l = rampLog(x, 0, 20);
      expect(l >= 0 && l <= 1).toBe(true);
    }
  });

  it('is checked with the allow-list and the schedule at start-up', () => {
    expect(() => checkLinkageConfig(loadConfig({ LINKAGE_WEIGHTS: '{"x":1}' }))).toThrow(
      /LINKAGE_WEIGHTS/,
    );
    expect(() => checkLinkageConfig(loadConfig({ LINKAGE_ALLOWLIST: 'nope' }))).toThrow(
      /LINKAGE_ALLOWLIST/,
    );
    expect(() => checkLinkageConfig(loadConfig({ LINKAGE_CRON: 'bogus cron' }))).toThrow(
      /LINKAGE_CRON "bogus cron" is not a cron pattern/,
    );
    expect(() =>
      checkLinkageConfig(loadConfig({ LINKAGE_LINK_MAX_AGE_DAYS: 'subnet:30' })),
    ).toThrow(/LINKAGE_LINK_MAX_AGE_DAYS entry "subnet:30"/);
    // A date runs once at most, 30 February never: both refused, not a schedule that never
    // runs (review, 12-06).
    for (const never of ['0 3 30 2 *', '0 3 31 4,6,9,11 *'])
      expect(() => checkLinkageConfig(loadConfig({ LINKAGE_CRON: never }))).toThrow(
        /LINKAGE_CRON ".*" is not a cron pattern \(or "off"\): it never fires$/,
      );
    for (const date of ['2020-01-01T03:00:00', '2099-01-01T03:00:00'])
      expect(() => checkLinkageConfig(loadConfig({ LINKAGE_CRON: date }))).toThrow(
        /a date or time, which would run once at most/,
      );
    for (const ok of ['0 3 * * *', '@daily', '0 0 3 * * *', '*/15 * * * *'])
      expect(() => checkLinkageConfig(loadConfig({ LINKAGE_CRON: ok }))).not.toThrow();
    expect(() => checkLinkageConfig(loadConfig({ LINKAGE_CRON: 'off' }))).not.toThrow();
    expect(() => checkLinkageConfig(loadConfig({}))).not.toThrow();
  });

  it('LINKAGE_PROMPT_MAX_HAMMING is 3 by default and at most 5 (grouping turns quadratic past it)', () => {
    expect(loadConfig({}).LINKAGE_PROMPT_MAX_HAMMING).toBe(3);
    expect(loadConfig({ LINKAGE_PROMPT_MAX_HAMMING: '0' }).LINKAGE_PROMPT_MAX_HAMMING).toBe(0);
    expect(loadConfig({ LINKAGE_PROMPT_MAX_HAMMING: '5' }).LINKAGE_PROMPT_MAX_HAMMING).toBe(5);
    expect(() => loadConfig({ LINKAGE_PROMPT_MAX_HAMMING: '6' })).toThrow(
      /LINKAGE_PROMPT_MAX_HAMMING/,
    );
  });
});
