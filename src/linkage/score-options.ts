/**
 * The score stage's one table of knobs: reason codes, their weights, the ramps that
 * turn raw signals into strengths, and the samplers' sizes. `scoreOptions` merges an
 * override key by key; from config, LINKAGE_WEIGHTS (settings.ts) overrides the
 * bias, weights, benign weights, ramps, reasonMinStrength and fullConfidenceSize
 * (the threshold is RISK_THRESHOLD). SIGNALS.md documents every entry.
 */
import { DAY_MS } from './signals/activity';
import type { IdentifierKind } from './types';

/** Positive (risk-raising) reason codes, in the order of the weights table. */
export const RISK_CODES = [
  'shared_payment_method',
  'shared_subnet',
  'subnet_rotation',
  'shared_prompt_template',
  'capability_concentration',
  'high_request_volume',
  'signup_burst',
  'signup_batch_on_subnets',
  'synchronised_activity',
  'around_the_clock',
  'model_pivot_24h',
] as const;
export type RiskCode = (typeof RISK_CODES)[number];

/**
 * Risk codes about what the members send rather than how they are tied together;
 * their weighted sum (`harvest_evidence`) gates model_pivot_24h, subnet_rotation,
 * signup_batch_on_subnets and the claims discount's network part (SIGNALS.md).
 */
export const HARVEST_CODES = [
  'shared_prompt_template',
  'capability_concentration',
  'high_request_volume',
  'around_the_clock',
] as const satisfies readonly RiskCode[];

/** Benign (risk-lowering) reason codes. */
export const BENIGN_CODES = [
  'benign_consistent_org',
  'benign_corporate_domain',
  'benign_signups_spread',
  'benign_office_hours',
  'benign_small_team',
] as const;
export type BenignCode = (typeof BENIGN_CODES)[number];

/**
 * [lo, hi] of the linear ramp that maps a raw signal to a strength in [0, 1]
 * (0 at or below lo, 1 at or above hi; hi < lo makes a falling ramp; lo ≠ hi; both
 * within the signal's RAMP_RANGE). The ramps listed in LOG_RAMPS are on a log scale, so
 * their lo and hi are > 0.
 */
export interface Ramps {
  payment_mean_shared_accounts: [number, number];
  subnet_mean_shared_accounts: [number, number];
  subnet_shared_per_member: [number, number];
  template_top_share: [number, number];
  capability_hhi: [number, number];
  /** How far template_top_share and capability_hhi count by the share of traffic they saw. */
  traffic_known_share: [number, number];
  requests_ratio: [number, number];
  signup_burst_share: [number, number];
  active_hour_jaccard: [number, number];
  around_the_clock: [number, number];
  /** The same raw signal, for how far it voids a declared org or domain (starts later). */
  around_the_clock_claims: [number, number];
  /** subnet_shared_per_member again, for how far (with the harvest gate) it voids a declared org or domain */
  subnet_shared_per_member_claims: [number, number];
  /** subnet_shared_per_member again (linear), for signup_batch_on_subnets: a sign-up batch on a pool */
  subnet_shared_per_member_batch: [number, number];
  pivot_share_24h: [number, number];
  /** Σ weight·strength of HARVEST_CODES: how far model_pivot_24h, subnet_rotation, signup_batch_on_subnets and the claims discount's network part count */
  harvest_evidence: [number, number];
  org_share: [number, number];
  corporate_domain_share: [number, number];
  signup_span_days: [number, number];
  office_window_share: [number, number];
  weekend_share: [number, number];
}

/**
 * What each ramp's raw signal ranges over, for the checks on overrides (settings.ts):
 * a share in [0, 1]; a count, ratio or number of days, never below 0; or the harvest
 * gate, whose ramp may start below 0 (SIGNALS.md: [-1, 0] turns the gate off).
 */
export const RAMP_RANGE: Record<keyof Ramps, 'share' | 'count' | 'gate' | 'window'> = {
  payment_mean_shared_accounts: 'count',
  subnet_mean_shared_accounts: 'count',
  subnet_shared_per_member: 'count',
  template_top_share: 'share',
  capability_hhi: 'share',
  traffic_known_share: 'share',
  requests_ratio: 'count',
  signup_burst_share: 'share',
  active_hour_jaccard: 'share',
  around_the_clock: 'share',
  around_the_clock_claims: 'share',
  subnet_shared_per_member_claims: 'count',
  subnet_shared_per_member_batch: 'count',
  pivot_share_24h: 'share',
  harvest_evidence: 'gate',
  org_share: 'share',
  corporate_domain_share: 'share',
  signup_span_days: 'count',
  // a share that any activity puts at officeWindowHours / 24 or more (a flat day)
  office_window_share: 'window',
  weekend_share: 'share',
};

/** The ramps read on a log scale (combine.ts). */
export const LOG_RAMPS = [
  'payment_mean_shared_accounts',
  'subnet_mean_shared_accounts',
  'subnet_shared_per_member',
  'subnet_shared_per_member_claims',
  'requests_ratio',
] as const satisfies readonly (keyof Ramps)[];

export interface ScoreOptions {
  /** flagged = risk ≥ threshold */
  threshold: number;
  /** logistic bias: risk of a cluster with no evidence either way = sigmoid(bias) */
  bias: number;
  weights: Record<RiskCode, number>;
  benignWeights: Record<BenignCode, number>;
  ramps: Ramps;
  /** a code is listed in reasons when its strength (0..1, before weighting) reaches this */
  reasonMinStrength: number;
  /** positive evidence is scaled by min(1, (size-1)/(fullConfidenceSize-1)) */
  fullConfidenceSize: number;
  /** near-duplicate prompt distance (SimHash bits); the run groups at build's maxHamming */
  templateMaxHamming: number;
  /** how many of the biggest shared templates count towards concentration */
  templateTopK: number;
  /** sign-up burst window */
  burstWindowMs: number;
  /**
   * a burst is a window holding at least max(burstMinAccounts, burstMinShare × members
   * with a known sign-up) sign-ups; the signal is the share of all members inside bursts
   */
  burstMinAccounts: number;
  burstMinShare: number;
  /** members sampled per cluster for hour-series signals (entropy, office hours, overlap) */
  activitySample: number;
  /** member pairs sampled per cluster for active-hour overlap */
  syncPairs: number;
  /** around the clock: a member's quietest window of this many hours of day… */
  quietWindowHours: number;
  /** …measured only on members with at least this many requests (the others count 0) */
  aroundMinRequests: number;
  /** office-hours window length on the hour-of-day clock */
  officeWindowHours: number;
  /** members sampled per cluster for the model-pivot signal */
  pivotSample: number;
  /** pivot window after a release, and how long after the log's start (the earliest release) a model must be released to be "new" */
  pivotWindowHours: number;
  newModelMinAgeMs: number;
  /**
   * a model's release is when its k-th account first used it (the first use alone is
   * one event, whose clock may be wrong); models fewer accounts used are never new
   */
  releaseMinAccounts: number;
  /** members' requests in the pivot window below which the signal is not measured */
  pivotMinRequests: number;
  /** webmail and throwaway (disposable) mail domains never count as a corporate domain */
  webmailDomains: string[];
  /**
   * providers whose every country domain is webmail: `hotmail` covers hotmail.com,
   * hotmail.co.uk, hotmail.fr, yahoo.com.br (the name, then a TLD, or co/com/net/… and a
   * country code)
   */
  webmailProviders: string[];
  /** benign_small_team applies to clusters up to this size */
  smallTeamMaxSize: number;
  /** per-kind weight used only to rank sharedIdentifiers */
  kindRank: Record<IdentifierKind, number>;
  /** cap on sharedIdentifiers per cluster */
  sharedIdentifiersCap: number;
  /** seed for the per-cluster samplers */
  seed: number;
}

export const DEFAULTS: ScoreOptions = {
  threshold: 0.7,
  bias: -4,
  weights: {
    shared_payment_method: 2.0,
    shared_subnet: 0.75,
    subnet_rotation: 1.0,
    shared_prompt_template: 2.0,
    capability_concentration: 1.0,
    high_request_volume: 1.5,
    signup_burst: 1.5,
    signup_batch_on_subnets: 1.0,
    synchronised_activity: 1.5,
    around_the_clock: 1.25,
    model_pivot_24h: 2.5,
  },
  benignWeights: {
    benign_consistent_org: 2.0,
    benign_corporate_domain: 1.5,
    benign_signups_spread: 2.0,
    benign_office_hours: 1.5,
    benign_small_team: 1.5,
  },
  ramps: {
    payment_mean_shared_accounts: [2, 20],
    subnet_mean_shared_accounts: [3, 50],
    subnet_shared_per_member: [8, 40],
    template_top_share: [0.2, 0.8],
    capability_hhi: [0.3, 0.7],
    traffic_known_share: [0, 0.5],
    requests_ratio: [2, 20],
    signup_burst_share: [0.2, 0.7],
    active_hour_jaccard: [0.1, 0.5],
    around_the_clock: [0.3, 0.8],
    around_the_clock_claims: [0.45, 0.75],
    subnet_shared_per_member_claims: [4, 16],
    subnet_shared_per_member_batch: [2, 5],
    pivot_share_24h: [0.15, 0.5],
    harvest_evidence: [1.5, 2.5],
    org_share: [0.6, 0.95],
    corporate_domain_share: [0.6, 0.95],
    signup_span_days: [14, 90],
    office_window_share: [0.75, 0.92],
    weekend_share: [0.28, 0.12],
  },
  reasonMinStrength: 0.25,
  fullConfidenceSize: 5,
  templateMaxHamming: 3,
  templateTopK: 3,
  burstWindowMs: DAY_MS,
  burstMinAccounts: 3,
  burstMinShare: 0.1,
  activitySample: 64,
  syncPairs: 96,
  quietWindowHours: 6,
  aroundMinRequests: 12,
  officeWindowHours: 10,
  pivotSample: 256,
  pivotWindowHours: 24,
  newModelMinAgeMs: 3 * DAY_MS,
  releaseMinAccounts: 3,
  pivotMinRequests: 20,
  webmailDomains: [
    'gmail.com',
    'googlemail.com',
    'outlook.com',
    'hotmail.com',
    'live.com',
    'msn.com',
    'yahoo.com',
    'ymail.com',
    'aol.com',
    'icloud.com',
    'me.com',
    'proton.me',
    'protonmail.com',
    'pm.me',
    'gmx.com',
    'gmx.de',
    'web.de',
    'mail.com',
    'mail.ru',
    'yandex.ru',
    'yandex.com',
    'qq.com',
    '163.com',
    '126.com',
    'sina.com',
    'naver.com',
    'tutanota.com',
    'zoho.com',
    'fastmail.com',
    'fastmail.fm',
    'foxmail.com',
    'vip.qq.com',
    'yeah.net',
    'sohu.com',
    'sina.cn',
    'aliyun.com',
    '139.com',
    '188.com',
    'inbox.ru',
    'list.ru',
    'bk.ru',
    'rambler.ru',
    'ya.ru',
    'hanmail.net',
    'daum.net',
    'rediffmail.com',
    'libero.it',
    'laposte.net',
    'orange.fr',
    'free.fr',
    't-online.de',
    'freenet.de',
    'seznam.cz',
    'wp.pl',
    'o2.pl',
    'onet.pl',
    'interia.pl',
    'tuta.io',
    'tutanota.de',
    'posteo.de',
    'mailbox.org',
    'duck.com',
    'hey.com',
    // throwaway inboxes and forwarding aliases: what a ring signs up with, never a company
    'mailinator.com',
    'yopmail.com',
    'guerrillamail.com',
    'guerrillamail.net',
    'sharklasers.com',
    'grr.la',
    '10minutemail.com',
    'temp-mail.org',
    'tempmail.com',
    'tempmail.net',
    'trashmail.com',
    'getnada.com',
    'dispostable.com',
    'maildrop.cc',
    'mailnesia.com',
    'throwawaymail.com',
    'fakeinbox.com',
    'mintemail.com',
    'emailondeck.com',
    'mohmal.com',
    'moakt.com',
    'burnermail.io',
    'spamgourmet.com',
    'mytemp.email',
    '33mail.com',
    'anonaddy.me',
    'addy.io',
    'simplelogin.com',
    'simplelogin.co',
    'relay.firefox.com',
    'mozmail.com',
    'privaterelay.appleid.com',
  ],
  webmailProviders: [
    'gmail',
    'googlemail',
    'hotmail',
    'outlook',
    'live',
    'msn',
    'windowslive',
    'yahoo',
    'ymail',
    'rocketmail',
    'aol',
    'gmx',
    'yandex',
    'icloud',
    'protonmail',
    'proton',
    'zoho',
    'zohomail',
    'tutanota',
    'mail',
    'mailinator',
    'yopmail',
    'guerrillamail',
    'trashmail',
  ],
  smallTeamMaxSize: 25,
  kindRank: {
    payment: 1,
    device: 1,
    prompt: 0.6,
    org: 0.5,
    email_domain: 0.4,
    ip: 0.4,
    subnet: 0.2,
  },
  sharedIdentifiersCap: 20,
  // LINKAGE_SEED's default, as build's and detect's: the library's defaults sample as the service does
  seed: 42,
};

/** Partial options; the nested tables may be partial too (merged key by key). */
export type ScoreOptionsInput = Partial<
  Omit<ScoreOptions, 'weights' | 'benignWeights' | 'ramps' | 'kindRank'>
> & {
  weights?: Partial<ScoreOptions['weights']>;
  benignWeights?: Partial<ScoreOptions['benignWeights']>;
  ramps?: Partial<Ramps>;
  kindRank?: Partial<ScoreOptions['kindRank']>;
};

/** Merges partial options over DEFAULTS (nested weight tables merged key by key). */
export function scoreOptions(options: ScoreOptionsInput = {}): ScoreOptions {
  return {
    ...DEFAULTS,
    ...options,
    weights: { ...DEFAULTS.weights, ...options.weights },
    benignWeights: { ...DEFAULTS.benignWeights, ...options.benignWeights },
    ramps: { ...DEFAULTS.ramps, ...options.ramps },
    kindRank: { ...DEFAULTS.kindRank, ...options.kindRank },
  };
}
