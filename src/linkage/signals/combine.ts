/**
 * From raw signals to risk: each reason code's strength in [0, 1] (the ramps), then
 * risk = a logistic over the weighted strengths, and the reasons a reviewer reads.
 */
import {
  BENIGN_CODES,
  HARVEST_CODES,
  RISK_CODES,
  type BenignCode,
  type Ramps,
  type RiskCode,
  type ScoreOptions,
} from '../score-options';
import type { Reason } from '../types';
import { ramp, rampLog, round, sigmoid } from './numbers';

/** The claims discount (after confidence) and its two parts (before it); SIGNALS.md. */
export interface ClaimsDiscount {
  discount: number;
  hours: number;
  network: number;
}

/** How much a cluster's risk evidence counts: pairs a quarter, full from fullConfidenceSize. */
function confidenceOf(size: number, opts: ScoreOptions): number {
  return Math.min(1, Math.max(0, (size - 1) / Math.max(1, opts.fullConfidenceSize - 1)));
}

/** Strength in [0, 1] of every code from the raw signals (the ramps documented in SIGNALS.md). */
export function strengthsOf(
  s: Record<string, number>,
  size: number,
  opts: ScoreOptions,
): {
  risk: Record<RiskCode, number>;
  benign: Record<BenignCode, number>;
  harvest: number;
  claims: ClaimsDiscount;
} {
  const v = (k: string): number => s[k] ?? 0;
  const r = (k: keyof Ramps): number => ramp(v(k), opts.ramps[k][0], opts.ramps[k][1]);
  const rl = (k: keyof Ramps): number => rampLog(v(k), opts.ramps[k][0], opts.ramps[k][1]);
  const burst = r('signup_burst_share');
  // Measured on the requests that carry a label or a fingerprint (optional fields): they
  // count as far as those are of the members' traffic, in full from traffic_known_share's
  // hi. Signals of runs before these existed (no key) were taken as measured in full.
  const seen = (k: string): number => ramp(s[k] ?? 1, ...opts.ramps.traffic_known_share);
  const what: Record<(typeof HARVEST_CODES)[number], number> = {
    shared_prompt_template: r('template_top_share') * seen('prompt_known'),
    capability_concentration: r('capability_hhi') * seen('capability_known'),
    high_request_volume: rl('requests_ratio'),
    around_the_clock: r('around_the_clock'),
  };
  // A team adopts a new model as fast as a campaign does, and a carrier's or a VPN's
  // users rotate over the same many subnets as a proxy pool's; what tells them apart is
  // what the members send. Both count as far as that looks like harvesting (SIGNALS.md).
  let harvest = 0;
  for (const code of HARVEST_CODES) harvest += opts.weights[code] * what[code];
  const harvested = ramp(harvest, ...opts.ramps.harvest_evidence);
  const pivot = r('pivot_share_24h') * harvested;
  // Staff of an organisation are people, and people sleep; they work from its office and
  // their homes. An org or domain the members declare counts only as far as their timing
  // looks human and, when they harvest, as far as they are not each spread over many
  // subnets other members use too: a cell on a proxy pool (SIGNALS.md, claims discount).
  // The hours' ramp starts above staff whose agent runs on through the night; both are
  // weighed with the same confidence as the risk evidence itself.
  const claimsHours = ramp(v('around_the_clock'), ...opts.ramps.around_the_clock_claims);
  const claimsNetwork =
    rampLog(v('subnet_shared_per_member'), ...opts.ramps.subnet_shared_per_member_claims) *
    harvested;
  const claims = confidenceOf(size, opts) * Math.max(claimsHours, claimsNetwork);
  const human = 1 - claims;
  const org = r('org_share') * human;
  const domain = r('corporate_domain_share') * human;
  // spread only as far as sign-ups are known: two known months apart are no spread organisation
  const signupKnown = Math.min(1, v('signup_known') / Math.max(1, size));
  // allow-listed cards included: allow-listing a startup's company card must not cost it this
  const paymentSingle =
    v('payment_values_all') === 1 && v('payment_max_accounts_all') >= 0.8 * size;
  return {
    harvest,
    claims: { discount: claims, hours: claimsHours, network: claimsNetwork },
    risk: {
      shared_payment_method: v('payment_shared_member_share') * rl('payment_mean_shared_accounts'),
      shared_subnet: v('subnet_shared_member_share') * rl('subnet_mean_shared_accounts'),
      subnet_rotation: rl('subnet_shared_per_member') * harvested,
      ...what,
      signup_burst: burst,
      // A burst whose members then rotate over the same few proxies and harvest: a cell
      // signed up in one batch (SIGNALS.md). A hackathon shares one venue subnet; a
      // campus class sends varied work (under the gate).
      signup_batch_on_subnets:
        burst *
        ramp(v('subnet_shared_per_member'), ...opts.ramps.subnet_shared_per_member_batch) *
        harvested,
      synchronised_activity: r('active_hour_jaccard'),
      model_pivot_24h: pivot,
    },
    benign: {
      benign_consistent_org: org,
      benign_corporate_domain: domain,
      benign_signups_spread:
        r('signup_span_days') * signupKnown * (1 - burst) * Math.max(org, domain),
      benign_office_hours:
        r('office_window_share') *
        (v('activity_span_days') >= 14 ? 0.5 + 0.5 * r('weekend_share') : 1) *
        v('active_member_share'),
      // A startup is a claimed domain too.
      benign_small_team:
        size <= opts.smallTeamMaxSize && paymentSingle && v('corporate_domain_share') >= 0.8
          ? human
          : 0,
    },
  };
}

/** The value reported with each reason code (the raw signal a reviewer reads). */
const REASON_VALUE: Record<RiskCode | BenignCode, string> = {
  shared_payment_method: 'payment_mean_shared_accounts',
  shared_subnet: 'subnet_mean_shared_accounts',
  subnet_rotation: 'subnet_shared_per_member',
  shared_prompt_template: 'template_top_share',
  capability_concentration: 'capability_hhi',
  high_request_volume: 'requests_ratio',
  signup_burst: 'signup_burst_share',
  signup_batch_on_subnets: 'subnet_shared_per_member',
  synchronised_activity: 'active_hour_jaccard',
  around_the_clock: 'around_the_clock',
  model_pivot_24h: 'pivot_share_24h',
  benign_consistent_org: 'org_share',
  benign_corporate_domain: 'corporate_domain_share',
  benign_signups_spread: 'signup_span_days',
  benign_office_hours: 'office_window_share',
  benign_small_team: 'size',
};

/**
 * risk = sigmoid(bias + confidence · Σ weight·strength − Σ benignWeight·benignStrength),
 * confidence = min(1, (size − 1) / (fullConfidenceSize − 1)).
 * Reasons: codes whose strength ≥ reasonMinStrength, largest weighted contribution first.
 */
export function combine(
  signals: Record<string, number>,
  size: number,
  opts: ScoreOptions,
): {
  risk: number;
  z: number;
  confidence: number;
  reasons: Reason[];
  /** strength (0..1) and signed contribution to z of every code */
  strengths: Record<string, number>;
  contributions: Record<string, number>;
  /** Σ weight·strength of the HARVEST_CODES, before confidence (gates the pivot, subnet_rotation, signup_batch_on_subnets and the claims discount's network part) */
  harvest: number;
  claims: ClaimsDiscount;
} {
  const { risk: pos, benign, harvest, claims } = strengthsOf(signals, size, opts);
  const confidence = confidenceOf(size, opts);
  let z = opts.bias;
  const listed: { code: string; value: number; contribution: number }[] = [];
  const contributions: Record<string, number> = {};
  for (const code of RISK_CODES) {
    const contribution = confidence * opts.weights[code] * pos[code];
    contributions[code] = contribution;
    z += contribution;
    if (pos[code] >= opts.reasonMinStrength && opts.weights[code] > 0) {
      listed.push({ code, value: round(signals[REASON_VALUE[code]] ?? 0), contribution });
    }
  }
  for (const code of BENIGN_CODES) {
    const contribution = opts.benignWeights[code] * benign[code];
    contributions[code] = -contribution;
    z -= contribution;
    if (benign[code] >= opts.reasonMinStrength && opts.benignWeights[code] > 0) {
      listed.push({ code, value: round(signals[REASON_VALUE[code]] ?? 0), contribution });
    }
  }
  listed.sort((a, b) => b.contribution - a.contribution || (a.code < b.code ? -1 : 1));
  return {
    risk: sigmoid(z),
    z,
    confidence,
    reasons: listed.map(({ code, value }) => ({ code, value })),
    strengths: { ...pos, ...benign },
    contributions,
    harvest,
    claims,
  };
}
