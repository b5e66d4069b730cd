/**
 * Linkage settings from config that need more than the config schema: the schedule
 * (LINKAGE_CRON), and overrides of the weight tables (LINKAGE_WEIGHTS, JSON), over
 * DEFAULTS in weights.ts (build) and score.ts (score); nested tables merge key by key.
 * Only numbers that tune evidence are open here: kinds, families and webmail domains
 * stay in code. A run records the overrides it used in its params, so it can be
 * reproduced.
 */
import { Cron } from 'croner';
import { z } from 'zod';
import { type Config, ConfigError } from '../platform/config';
import { parseConfigAllowlist } from './allowlist';
import { parseLinkMaxAge } from './link-age';
import { DEFAULTS as SCORE, type ScoreOptionsInput } from './score';
import { LOG_RAMPS, RAMP_RANGE } from './score-options';
import type { IdentifierKind } from './types';
import { DEFAULTS as LINK, type BuildOptions } from './weights';

// Defaults are 0.1–3; past 1,000 sums of weights can overflow (Float32 evidence, then
// Infinity edge weights and NaN modularity: a run that publishes nothing).
const MAX_WEIGHT = 1000;
const weight = z.number().finite().min(0).max(MAX_WEIGHT);

/** A partial table over the keys of a DEFAULTS table; unknown keys are refused. */
function table<K extends string, V>(defaults: Record<K, unknown>, value: z.ZodType<V>) {
  const shape = Object.fromEntries(Object.keys(defaults).map((k) => [k, value.optional()]));
  return z.object(shape).strict() as unknown as z.ZodType<Partial<Record<K, V>>>;
}

const range = z.tuple([z.number().finite(), z.number().finite()]);

export const weightOverridesSchema = z
  .object({
    build: z
      .object({
        kindWeight: table(LINK.build.kindWeight, weight),
        fullShare: z.number().finite().gt(0).max(1),
        kindCap: z.number().finite().gt(0).max(MAX_WEIGHT),
        // 0 would let a family with no evidence corroborate (build counts only > 0 anyway)
        corroborationMin: z.number().finite().gt(0),
        corroborationBonus: weight,
        weakOnlyMin: weight,
        minProposeWeight: weight,
        // as coUseMaxExpandDegree: a value of degree d above it expands to d(d-1)/2 pairs
        maxExpandDegree: z.number().int().min(2).max(1000),
        coUseWeight: weight,
        coUseMinEvents: z.number().finite().min(1),
        coUseMinShare: z.number().finite().gt(0).max(1),
        coUseMinSubnetShare: z.number().finite().gt(0).max(1),
        coUseMaxPerKind: z.number().int().min(0).max(16),
        coUseMinSubnets: z.number().int().min(1).max(32),
        coUseMaxExpandDegree: z.number().int().min(2).max(1000),
        coActivityWeight: weight,
        coActivityBands: z.number().int().min(0).max(16),
        coActivityMinHours: z.number().int().min(1),
        coActivityMinJaccard: z.number().finite().gt(0).max(1),
        coSignupWindowHours: z.number().finite().min(0),
        coSignupMinSubnets: z.number().int().min(1).max(32),
      })
      .partial()
      .strict()
      .superRefine((build, ctx) => {
        // Pairs of keys where one must not pass the other, checked on what the run uses:
        // each key overridden or left at its default.
        const atMost = (
          low: 'minProposeWeight' | 'coUseMinSubnets' | 'coSignupMinSubnets',
          high: keyof typeof build,
        ) => {
          const lowValue = build[low] ?? LINK.build[low];
          const highValue = (build[high] ?? LINK.build[high]) as number;
          if (lowValue <= highValue) return;
          const side = (key: string, value: number, set: boolean) =>
            `${key} (${value}${set ? '' : ', the default'})`;
          ctx.addIssue({
            code: 'custom',
            path: [build[low] !== undefined ? low : high],
            message: `${low} must be ≤ ${high}: ${side(low, lowValue, build[low] !== undefined)} > ${side(
              high,
              highValue,
              build[high] !== undefined,
            )}`,
          });
        };
        // weights.ts: a value too weak to corroborate must not propose a pair either.
        atMost('minProposeWeight', 'corroborationMin');
        // A pair shares at most coUseMaxPerKind subnets (each account's busiest): above it,
        // co-use could never count, silently (review, 12-05). 0 turns co-use off outright,
        // and co-activity with it (it reads co-use's subnets).
        const subnetsOn = (build.coUseMaxPerKind ?? LINK.build.coUseMaxPerKind) > 0;
        const coActivityOn =
          subnetsOn &&
          (build.coActivityBands ?? LINK.build.coActivityBands) > 0 &&
          (build.coActivityWeight ?? LINK.build.coActivityWeight) > 0;
        const coUseOn = subnetsOn && (build.coUseWeight ?? LINK.build.coUseWeight) > 0;
        if (coUseOn || coActivityOn) {
          atMost('coUseMinSubnets', 'coUseMaxPerKind');
          // An account cannot have more than 1 / coUseMinSubnetShare subnets that each carry
          // that share of its traffic: past it nobody takes part in either rule, silently.
          const minSubnets = build.coUseMinSubnets ?? LINK.build.coUseMinSubnets;
          const share = build.coUseMinSubnetShare ?? LINK.build.coUseMinSubnetShare;
          if (minSubnets * share > 1)
            ctx.addIssue({
              code: 'custom',
              path: [
                build.coUseMinSubnetShare !== undefined ? 'coUseMinSubnetShare' : 'coUseMinSubnets',
              ],
              message: `coUseMinSubnets × coUseMinSubnetShare (${minSubnets} × ${share}) must be ≤ 1: no account can have that many subnets each carrying that share of its traffic, so co-use and co-activity would link no one`,
            });
        }
        if (coActivityOn && (build.coSignupWindowHours ?? LINK.build.coSignupWindowHours) > 0) {
          // the sign-up rule counts shared subnets among at most coUseMaxPerKind (below
          // coUseMinSubnets it asks for coUseMinSubnets, as every co-activity pair)
          atMost('coSignupMinSubnets', 'coUseMaxPerKind');
        }
        const kindCap = build.kindCap ?? LINK.build.kindCap;
        const min = build.corroborationMin ?? LINK.build.corroborationMin;
        // A pair only co-activity proposes gets its weight w as subnet evidence, capped at
        // kindCap × kindWeight.subnet (a subnet's own evidence is too common to count as
        // specific), and as activity, capped at kindCap × w. It is kept when both reach
        // corroborationMin (two families) or their sum reaches weakOnlyMin; else
        // co-activity links no one, silently (review, 12-06).
        if (coActivityOn) {
          const w = build.coActivityWeight ?? LINK.build.coActivityWeight;
          const subnet = Math.min(
            w,
            kindCap * (build.kindWeight?.subnet ?? LINK.build.kindWeight.subnet),
          );
          const activity = Math.min(w, kindCap * w);
          if (
            subnet + activity < (build.weakOnlyMin ?? LINK.build.weakOnlyMin) &&
            Math.min(subnet, activity) < min
          )
            ctx.addIssue({
              code: 'custom',
              path:
                build.coActivityWeight !== undefined || activity < min
                  ? ['coActivityWeight']
                  : build.kindWeight?.subnet !== undefined
                    ? ['kindWeight', 'subnet']
                    : build.kindCap !== undefined
                      ? ['kindCap']
                      : ['corroborationMin'],
              message: `a pair only co-activity links gets ${subnet} of subnet evidence (coActivityWeight capped at kindCap × kindWeight.subnet) and ${activity} of activity (coActivityWeight capped at kindCap × coActivityWeight): both must be ≥ corroborationMin (${min}) while co-activity is on, or their sum ≥ weakOnlyMin, else it would never be kept; coActivityBands 0 turns co-activity off`,
            });
        }
        if (!coUseOn) return;
        // Co-use is prompt and subnet evidence (both weak kinds), each capped at kindCap ×
        // kindWeight. A pair it alone proposes is kept when both caps reach corroborationMin
        // (two families) or their sum reaches weakOnlyMin; else co-use links no one,
        // silently (review, 12-06).
        const weight = (kind: 'subnet' | 'prompt') =>
          build.kindWeight?.[kind] ?? LINK.build.kindWeight[kind];
        const capSum = kindCap * (weight('subnet') + weight('prompt'));
        if (capSum >= (build.weakOnlyMin ?? LINK.build.weakOnlyMin)) return;
        for (const kind of ['subnet', 'prompt'] as const) {
          const w = weight(kind);
          if (kindCap * w >= min) continue;
          const path =
            build.kindWeight?.[kind] !== undefined
              ? ['kindWeight', kind]
              : build.kindCap !== undefined
                ? ['kindCap']
                : ['corroborationMin'];
          ctx.addIssue({
            code: 'custom',
            path,
            message: `kindCap × kindWeight.${kind} (${kindCap} × ${w}) must be ≥ corroborationMin (${min}) while co-use is on: co-use counts as ${kind} evidence capped there, so a pair only co-use proposes would never be kept (a weakOnlyMin at most the subnet and prompt caps' sum keeps it too); coUseMaxPerKind 0 turns co-use off`,
          });
        }
      }),
    score: z
      .object({
        bias: z.number().finite().min(-MAX_WEIGHT).max(MAX_WEIGHT),
        weights: table(SCORE.weights, weight),
        benignWeights: table(SCORE.benignWeights, weight),
        ramps: table(SCORE.ramps, range).superRefine((ramps, ctx) => {
          for (const [key, r] of Object.entries(ramps) as [string, [number, number]][]) {
            if (r[0] === r[1])
              ctx.addIssue({ code: 'custom', path: [key], message: 'lo and hi must differ' });
            // a ramp keeps its default's direction: reversed, it would turn the code's
            // meaning around (no evidence at all would be full strength)
            const [dlo, dhi] = SCORE.ramps[key as keyof typeof SCORE.ramps];
            if (dlo < dhi && r[0] > r[1])
              ctx.addIssue({
                code: 'custom',
                path: [key],
                message: `this ramp rises (default [${dlo}, ${dhi}]): lo must be below hi`,
              });
            if (dlo > dhi && r[0] < r[1])
              ctx.addIssue({
                code: 'custom',
                path: [key],
                message: `this ramp falls (default [${dlo}, ${dhi}]): lo must be above hi`,
              });
            if ((LOG_RAMPS as readonly string[]).includes(key) && !(r[0] > 0 && r[1] > 0))
              ctx.addIssue({
                code: 'custom',
                path: [key],
                message: 'a log-scale ramp needs lo and hi > 0',
              });
            // An end outside the signal's range acts as reversing did: below it, no evidence
            // at all has strength; a share ramp past 1 never counts or always does.
            const range = RAMP_RANGE[key as keyof typeof RAMP_RANGE];
            if (range === 'share' && !(Math.min(...r) >= 0 && Math.max(...r) <= 1))
              ctx.addIssue({
                code: 'custom',
                path: [key],
                message: `lo and hi must be within [0, 1]: ${key} is a share`,
              });
            const flatDay = SCORE.officeWindowHours / 24;
            if (range === 'window' && !(Math.min(...r) >= flatDay && Math.max(...r) <= 1))
              ctx.addIssue({
                code: 'custom',
                path: [key],
                message: `lo and hi must be within [${SCORE.officeWindowHours}/24, 1]: with any activity ${key} is at least ${SCORE.officeWindowHours}/24 (≈ ${flatDay.toFixed(3)}, a flat day), so a ramp from below it credits round-the-clock activity`,
              });
            if (range === 'count' && !(Math.min(...r) >= 0))
              ctx.addIssue({
                code: 'custom',
                path: [key],
                message: `lo and hi must be ≥ 0: ${key} is never below 0, and a ramp from below it gives strength with no evidence at all`,
              });
          }
        }),
        // 0 would list every code, even those with no evidence at all
        reasonMinStrength: z.number().finite().gt(0).max(1),
        fullConfidenceSize: z.number().int().min(2),
      })
      .partial()
      .strict(),
  })
  .partial()
  .strict();

export type WeightOverrides = z.infer<typeof weightOverridesSchema>;

/** Parses LINKAGE_WEIGHTS; throws naming the key at fault ('' = no overrides). */
export function parseWeightOverrides(spec: string): WeightOverrides {
  if (spec.trim() === '') return {};
  let raw: unknown;
  try {
    raw = JSON.parse(spec);
  } catch {
    throw new Error(
      'LINKAGE_WEIGHTS must be a JSON object, e.g. {"build":{"kindWeight":{"ip":0.2}}}',
    );
  }
  const parsed = weightOverridesSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map(
      (i) => `${['LINKAGE_WEIGHTS', ...i.path].join('.')}: ${i.message}`,
    );
    throw new Error(`Invalid LINKAGE_WEIGHTS:\n  ${issues.join('\n  ')}`);
  }
  return parsed.data;
}

/** Build options from the overrides (the kind table merges key by key in resolveBuildOptions). */
export function buildOverrides(o: WeightOverrides): Partial<BuildOptions> {
  const { kindWeight, ...rest } = o.build ?? {};
  return kindWeight ? { ...rest, kindWeight: kindWeight as Record<IdentifierKind, number> } : rest;
}

export function scoreOverrides(o: WeightOverrides): ScoreOptionsInput {
  return { ...o.score };
}

/**
 * LINKAGE_CRON as a pattern, or null when off; throws naming the key on a bad pattern, on
 * a date (croner reads text with a ':' as one moment: it would run once, or never) and on
 * a pattern that never fires (30 February): either would leave the nightly run silently
 * undone (review, 12-06).
 */
export function cronPattern(spec: string): string | null {
  const pattern = spec.trim();
  if (pattern === '' || pattern.toLowerCase() === 'off') return null;
  const fail = (why: string): never => {
    throw new Error(`LINKAGE_CRON "${pattern}" is not a cron pattern (or "off"): ${why}`);
  };
  if (pattern.includes(':')) fail('a date or time, which would run once at most');
  let next: Date | null = null;
  try {
    const job = new Cron(pattern, { paused: true });
    next = job.nextRun();
    job.stop();
  } catch (err) {
    // croner looks for the next time by recursion, which overflows on some patterns that
    // never fire (31 April, June, September and November)
    fail(err instanceof RangeError ? 'it never fires' : (err as Error).message);
  }
  if (next === null) fail('it never fires');
  return pattern;
}

/** Its message as a ConfigError (no stack trace at start-up), whatever `check` threw. */
function asConfigError(check: () => void): void {
  try {
    check();
  } catch (err) {
    throw new ConfigError((err as Error).message, { cause: err });
  }
}

/**
 * Everything in config a run would refuse (LINKAGE_ALLOWLIST, LINKAGE_WEIGHTS,
 * LINKAGE_LINK_MAX_AGE_DAYS), checked
 * before a `linkage run` reaches or starts Neo4j, so a typo stops it there.
 */
export function checkRunConfig(config: Config): void {
  asConfigError(() => {
    parseConfigAllowlist(config.LINKAGE_ALLOWLIST);
    parseWeightOverrides(config.LINKAGE_WEIGHTS);
    parseLinkMaxAge(config.LINKAGE_LINK_MAX_AGE_DAYS);
  });
}

/** What a run would refuse, and the schedule: checked once at the service's start-up. */
export function checkLinkageConfig(config: Config): void {
  checkRunConfig(config);
  asConfigError(() => cronPattern(config.LINKAGE_CRON));
}
