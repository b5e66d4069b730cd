/**
 * Score stage (pure): turns each detected community into a ScoredCluster with a risk
 * in [0, 1], a flag, readable reasons and every raw signal value.
 *
 * Why it looks like this: a reviewer must be able to read why a cluster is risky.
 * Each signal is a plain, documented measurement (accounts per shared card, share of
 * traffic on a few templates, sign-up bursts, …), mapped to a strength in [0, 1] by
 * a linear ramp; risk is a logistic over bias + Σ weight·strength − Σ benignWeight·
 * benignStrength, with every weight in DEFAULTS. Benign look-alikes (a company, a
 * campus NAT, a VPN exit, developers sharing a framework prompt) are kept low by
 * benign signals and by discounting shared values that are common outside the
 * cluster. See src/linkage/SIGNALS.md for each signal's meaning, formula and weight.
 *
 * Cost: one pass over all account–identifier links, plus per-cluster work capped
 * by sampling (seeded) for the hour-series signals; no all-pairs work anywhere.
 */
import { createRng } from './rng';
import { checkTemplates, promptTemplates, type PromptTemplates } from './lsh';
import {
  DAY_MS,
  HOUR_MS,
  addHourOfDay,
  bestWindowShare,
  jaccardSorted,
  quietestWindowShare,
  inBurstWindows,
  maxInWindow,
  modelPivot,
  normalisedEntropy,
  quantileSorted,
} from './signals/activity';
import type {
  AccountFacts,
  Detection,
  IdentifierKind,
  LinkageInput,
  Reason,
  ScoredCluster,
} from './types';

/** Positive (risk-raising) reason codes, in the order of the weights table. */
export const RISK_CODES = [
  'shared_payment_method',
  'shared_subnet',
  'shared_prompt_template',
  'capability_concentration',
  'high_request_volume',
  'signup_burst',
  'synchronised_activity',
  'around_the_clock',
  'model_pivot_24h',
] as const;
export type RiskCode = (typeof RISK_CODES)[number];

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
 * (0 at or below lo, 1 at or above hi; hi < lo makes a falling ramp). Ramps over
 * counts and ratios (the `*_accounts` and `requests_ratio` keys) are on a log scale.
 */
export interface Ramps {
  payment_mean_shared_accounts: [number, number];
  subnet_mean_shared_accounts: [number, number];
  template_top_share: [number, number];
  capability_hhi: [number, number];
  requests_ratio: [number, number];
  signup_burst_share: [number, number];
  active_hour_jaccard: [number, number];
  around_the_clock: [number, number];
  pivot_share_24h: [number, number];
  org_share: [number, number];
  corporate_domain_share: [number, number];
  signup_span_days: [number, number];
  office_window_share: [number, number];
  weekend_share: [number, number];
}

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
   * with a known sign-up) sign-ups; the signal is the share of members inside bursts
   */
  burstMinAccounts: number;
  burstMinShare: number;
  /** members sampled per cluster for hour-series signals (entropy, office hours, overlap) */
  activitySample: number;
  /** member pairs sampled per cluster for active-hour overlap */
  syncPairs: number;
  /** around the clock: a member's quietest window of this many hours of day… */
  quietWindowHours: number;
  /** …measured only on members with at least this many requests */
  aroundMinRequests: number;
  /** office-hours window length on the hour-of-day clock */
  officeWindowHours: number;
  /** members sampled per cluster for the model-pivot signal */
  pivotSample: number;
  /** pivot window after a release, and how long after the first use of any model a model must appear to be "new" */
  pivotWindowHours: number;
  newModelMinAgeMs: number;
  /** members' requests in the pivot window below which the signal is not measured */
  pivotMinRequests: number;
  /** webmail domains never count as a corporate domain */
  webmailDomains: string[];
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
    shared_prompt_template: 2.0,
    capability_concentration: 1.0,
    high_request_volume: 1.5,
    signup_burst: 1.5,
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
    template_top_share: [0.2, 0.8],
    capability_hhi: [0.3, 0.7],
    requests_ratio: [2, 20],
    signup_burst_share: [0.2, 0.7],
    active_hour_jaccard: [0.1, 0.5],
    around_the_clock: [0.3, 0.8],
    pivot_share_24h: [0.15, 0.5],
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
  seed: 1,
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

/** clamp((x - lo) / (hi - lo), 0, 1); works with hi < lo for a falling ramp. */
export function ramp(x: number, lo: number, hi: number): number {
  if (!Number.isFinite(x)) return x > 0 === hi > lo ? 1 : 0;
  const t = (x - lo) / (hi - lo);
  return t <= 0 ? 0 : t >= 1 ? 1 : t;
}

/** ramp on a log scale (for counts and ratios). */
function rampLog(x: number, lo: number, hi: number): number {
  if (x <= 0) return 0;
  return ramp(Math.log(x), Math.log(lo), Math.log(hi));
}

function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

function round(x: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Up to k distinct elements of `items`, chosen with `rng` (all of them, in order, if k ≥ length). */
function sample<T>(items: readonly T[], k: number, rng: () => number): readonly T[] {
  if (items.length <= k) return items;
  // Floyd's algorithm: k distinct indexes in O(k), kept in ascending order
  const n = items.length;
  const chosen = new Set<number>();
  for (let j = n - k; j < n; j++) {
    const t = Math.floor(rng() * (j + 1));
    chosen.add(chosen.has(t) ? j : t);
  }
  return Array.from(chosen)
    .sort((a, b) => a - b)
    .map((i) => items[i] as T);
}

/** Median of an ascending typed array. */
function medianSorted(sorted: Float64Array): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const mid = n >> 1;
  return n % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Per-run precomputation shared by every cluster (one pass over links and accounts). */
interface Context {
  input: LinkageInput;
  opts: ScoreOptions;
  /** CSR: links of account a are linkOrder[linkStart[a] .. linkStart[a+1]) */
  linkStart: Int32Array;
  linkOrder: Int32Array;
  allowed: Uint8Array;
  populationMedianRequests: number;
  newModels: { name: string; firstSeen: number }[];
  newModelEarly: Uint8Array[];
  webmail: Set<string>;
  /**
   * template id per identifier (-1 for non-prompt identifiers), and per template the
   * account–fingerprint links of accounts that are in no community
   */
  promptTemplate: Int32Array;
  templateUnclustered: Float64Array;
  /** scratch arrays per template, reused across clusters */
  tpl: {
    requests: Float64Array;
    inside: Float64Array;
    members: Int32Array;
    last: Int32Array;
    rep: Int32Array;
  };
  /** per-cluster numeric scratch, sized to the largest community */
  scratchA: Float64Array;
  scratchB: Float64Array;
  /** scratch arrays reused across clusters (reset through `touched`) */
  memberCount: Int32Array;
  requestSum: Float64Array;
  lastMember: Int32Array;
}

function buildContext(
  input: LinkageInput,
  community: Int32Array,
  largestCommunity: number,
  opts: ScoreOptions,
  templates: PromptTemplates,
): Context {
  const accountCount = input.accounts.length;
  const identifierCount = input.identifiers.length;
  const linkCount = input.linkAccount.length;

  const linkStart = new Int32Array(accountCount + 1);
  for (let l = 0; l < linkCount; l++) {
    const a = input.linkAccount[l]! + 1;
    linkStart[a] = linkStart[a]! + 1;
  }
  for (let a = 0; a < accountCount; a++) linkStart[a + 1] = linkStart[a + 1]! + linkStart[a]!;
  const fill = linkStart.slice(0, accountCount);
  const linkOrder = new Int32Array(linkCount);
  for (let l = 0; l < linkCount; l++) {
    const a = input.linkAccount[l]!;
    linkOrder[fill[a]!] = l;
    fill[a] = fill[a]! + 1;
  }

  const lastMember = new Int32Array(identifierCount).fill(-1);

  const allowKeys = new Set(input.allowlist.map((i) => `${i.kind}\u0000${i.value}`));
  const allowed = new Uint8Array(identifierCount);
  if (allowKeys.size > 0) {
    input.identifiers.forEach((i, idx) => {
      if (allowKeys.has(`${i.kind}\u0000${i.value}`)) allowed[idx] = 1;
    });
  }

  const requests = new Float64Array(accountCount);
  input.accounts.forEach((a, i) => {
    requests[i] = a.requests;
  });
  requests.sort();
  let populationMedianRequests = 0;
  if (accountCount > 0) {
    const mid = accountCount >> 1;
    populationMedianRequests =
      accountCount % 2 ? requests[mid]! : (requests[mid - 1]! + requests[mid]!) / 2;
  }

  const promptTemplate = templates.ofIdentifier;
  const templateUnclustered = new Float64Array(templates.count);
  for (let l = 0; l < linkCount; l++) {
    const a = input.linkAccount[l]!;
    if ((community[a] ?? -1) >= 0) continue;
    const id = input.linkIdentifier[l]!;
    const t = promptTemplate[id]!;
    if (t >= 0 && !allowed[id]) templateUnclustered[t] = templateUnclustered[t]! + 1;
  }
  const tc = templates.count;

  // "New" is relative to the first model use anywhere (when request data starts), not
  // to the earliest account activity: sign-ups recorded months before the request
  // log begins would otherwise make every model that existed all along look "new".
  let firstModelUse = Infinity;
  for (const m of input.models) if (m.firstSeen < firstModelUse) firstModelUse = m.firstSeen;
  const newModels = input.models.filter(
    (m) => Number.isFinite(firstModelUse) && m.firstSeen >= firstModelUse + opts.newModelMinAgeMs,
  );
  // per new model, the accounts that used it within the pivot window of its release
  const newModelEarly = newModels.map(() => new Uint8Array(accountCount));
  if (newModels.length > 0) {
    const indexOf = new Map(newModels.map((m, i) => [m.name, i]));
    input.accounts.forEach((account, a) => {
      for (const use of account.models) {
        const i = indexOf.get(use.name);
        if (i === undefined) continue;
        const model = newModels[i]!;
        if (use.firstUse < model.firstSeen + opts.pivotWindowHours * HOUR_MS) {
          newModelEarly[i]![a] = 1;
        }
      }
    });
  }

  return {
    input,
    opts,
    linkStart,
    linkOrder,
    allowed,
    populationMedianRequests,
    newModels,
    newModelEarly,
    webmail: new Set(opts.webmailDomains.map((d) => d.toLowerCase())),
    promptTemplate,
    templateUnclustered,
    tpl: {
      requests: new Float64Array(tc),
      inside: new Float64Array(tc),
      members: new Int32Array(tc),
      last: new Int32Array(tc).fill(-1),
      rep: new Int32Array(tc).fill(-1),
    },
    scratchA: new Float64Array(largestCommunity),
    scratchB: new Float64Array(largestCommunity),
    memberCount: new Int32Array(identifierCount),
    requestSum: new Float64Array(identifierCount),
    lastMember,
  };
}

/**
 * Scores every community of `detection` (community index per account, -1 for none).
 * Returns one ScoredCluster per non-empty community, in community-index order.
 * `templates` are the run's prompt templates (grouped once, shared with build);
 * without them score groups the fingerprints itself at `templateMaxHamming`.
 */
export function score(
  input: LinkageInput,
  detection: Detection,
  options: ScoreOptionsInput = {},
  templates?: PromptTemplates,
): ScoredCluster[] {
  const opts = scoreOptions(options);

  const groups: number[][] = [];
  for (let c = 0; c < detection.communityCount; c++) groups.push([]);
  const community = detection.community;
  let largest = 0;
  for (let a = 0; a < community.length && a < input.accounts.length; a++) {
    const c = community[a]!;
    if (c < 0) continue;
    while (groups.length <= c) groups.push([]);
    const group = groups[c]!;
    group.push(a);
    if (group.length > largest) largest = group.length;
  }
  if (templates) checkTemplates(templates, opts.templateMaxHamming);
  const ctx = buildContext(
    input,
    community,
    largest,
    opts,
    templates ?? promptTemplates(input.identifiers, opts.templateMaxHamming),
  );

  const out: ScoredCluster[] = [];
  groups.forEach((members, c) => {
    if (members.length > 0) out.push(scoreCluster(ctx, members, c));
  });
  return out;
}

/** Raw measurements of one cluster; turned into strengths and risk by `combine`. */
interface Measured {
  signals: Record<string, number>;
  sharedIdentifiers: ScoredCluster['sharedIdentifiers'];
}

function scoreCluster(ctx: Context, members: number[], clusterIndex: number): ScoredCluster {
  const { opts } = ctx;
  const rng = createRng((opts.seed ^ Math.imul(clusterIndex + 1, 0x9e3779b1)) >>> 0);
  const m = measure(ctx, members, rng);
  const { risk, z, confidence, reasons, strengths, contributions } = combine(
    m.signals,
    members.length,
    opts,
  );
  const signals = { ...m.signals };
  for (const [code, s] of Object.entries(strengths)) signals[`strength_${code}`] = round(s);
  for (const [code, c] of Object.entries(contributions)) signals[`contribution_${code}`] = round(c);
  signals.confidence = round(confidence);
  signals.z = round(z);
  signals.risk = round(risk);
  return {
    members,
    risk,
    flagged: risk >= opts.threshold,
    reasons,
    signals,
    sharedIdentifiers: m.sharedIdentifiers,
  };
}

function measure(ctx: Context, members: number[], rng: () => number): Measured {
  const { input, opts } = ctx;
  const n = members.length;
  const accounts: AccountFacts[] = members.map((a) => input.accounts[a]!);
  const signals: Record<string, number> = { size: n };

  // --- shared identifiers: distinct members and requests per identifier -------------
  const touched: number[] = [];
  for (const a of members) {
    for (let p = ctx.linkStart[a]!; p < ctx.linkStart[a + 1]!; p++) {
      const l = ctx.linkOrder[p]!;
      const id = input.linkIdentifier[l]!;
      if (ctx.allowed[id]) continue;
      if (ctx.lastMember[id] === -1) touched.push(id);
      ctx.requestSum[id] = ctx.requestSum[id]! + (input.linkCount[l] ?? 0);
      if (ctx.lastMember[id] === a) continue;
      ctx.lastMember[id] = a;
      ctx.memberCount[id] = ctx.memberCount[id]! + 1;
    }
  }

  const payments: number[] = [];
  const subnets: number[] = [];
  for (const id of touched) {
    const kind = input.identifiers[id]!.kind;
    if (kind === 'payment') payments.push(id);
    else if (kind === 'subnet') subnets.push(id);
  }
  Object.assign(signals, sharingSignals(ctx, members, payments, 'payment'));
  Object.assign(signals, sharingSignals(ctx, members, subnets, 'subnet'));
  const templates = templateSignals(ctx, members);
  Object.assign(signals, templates.signals);

  const sharedIdentifiers = rankShared(ctx, touched, templates.representatives);

  for (const id of touched) {
    ctx.memberCount[id] = 0;
    ctx.requestSum[id] = 0;
    ctx.lastMember[id] = -1;
  }

  // --- capability concentration -----------------------------------------------------
  const capabilities = new Map<string, number>();
  let capabilityTotal = 0;
  for (const acc of accounts) {
    for (const cap of acc.capabilities) {
      capabilities.set(cap.name, (capabilities.get(cap.name) ?? 0) + cap.count);
      capabilityTotal += cap.count;
    }
  }
  let hhi = 0;
  let topCapability = 0;
  if (capabilityTotal > 0) {
    for (const count of capabilities.values()) {
      const p = count / capabilityTotal;
      hhi += p * p;
      if (p > topCapability) topCapability = p;
    }
  }
  signals.capability_hhi = round(hhi);
  signals.capability_top_share = round(topCapability);

  // --- request volume ---------------------------------------------------------------
  const requests = ctx.scratchA.subarray(0, n);
  for (let i = 0; i < n; i++) requests[i] = accounts[i]!.requests;
  const medianRequests = medianSorted(requests.sort());
  signals.requests_median = medianRequests;
  signals.requests_population_median = ctx.populationMedianRequests;
  signals.requests_ratio = round(medianRequests / Math.max(1, ctx.populationMedianRequests));

  // --- sign-ups -----------------------------------------------------------------------
  let known = 0;
  for (const a of accounts) {
    if (a.signupAt !== null && Number.isFinite(a.signupAt)) ctx.scratchB[known++] = a.signupAt;
  }
  const signups = ctx.scratchB.subarray(0, known).sort();
  const inBusiest = maxInWindow(signups, opts.burstWindowMs);
  const burstMin = Math.max(opts.burstMinAccounts, opts.burstMinShare * signups.length);
  const inBursts = inBurstWindows(signups, opts.burstWindowMs, burstMin);
  signals.signup_known = signups.length;
  signals.signup_burst_max_share = signups.length > 0 ? round(inBusiest / signups.length) : 0;
  signals.signup_burst_share = signups.length > 0 ? round(inBursts / signups.length) : 0;
  signals.signup_span_days =
    signups.length >= 2
      ? round((quantileSorted(signups, 0.9) - quantileSorted(signups, 0.1)) / DAY_MS, 2)
      : 0;

  // --- activity: around the clock, office hours, overlap of active hours --------------
  const sampled = sample(accounts, opts.activitySample, rng);
  const clusterHours = new Float64Array(24);
  const memberHours = new Float64Array(24);
  const weekend = { weekend: 0, total: 0 };
  let entropySum = 0;
  let entropyCount = 0;
  let quietSum = 0;
  let quietCount = 0;
  let minHour = Infinity;
  let maxHour = -Infinity;
  for (const acc of sampled) {
    const hours = acc.hours;
    memberHours.fill(0);
    const total = addHourOfDay(hours, memberHours, weekend);
    if (total <= 0) continue;
    for (let h = 0; h < 24; h++) clusterHours[h] = clusterHours[h]! + memberHours[h]!;
    entropySum += normalisedEntropy(memberHours);
    entropyCount++;
    if (total >= opts.aroundMinRequests) {
      quietSum += quietestWindowShare(memberHours, opts.quietWindowHours);
      quietCount++;
    }
    const keys = hours.keys;
    if (keys.length > 0) {
      minHour = Math.min(minHour, keys[0]!);
      maxHour = Math.max(maxHour, keys[keys.length - 1]!);
    }
  }
  signals.hour_entropy_mean = entropyCount > 0 ? round(entropySum / entropyCount) : 0;
  // quiet-window share relative to a flat day (1 = no quiet hours at all)
  signals.around_the_clock =
    quietCount > 0 ? round(Math.min(1, quietSum / quietCount / (opts.quietWindowHours / 24))) : 0;
  signals.office_window_share = round(bestWindowShare(clusterHours, opts.officeWindowHours));
  signals.weekend_share = weekend.total > 0 ? round(weekend.weekend / weekend.total) : 0;
  signals.activity_span_days = Number.isFinite(minHour) ? round((maxHour - minHour) / 24, 2) : 0;
  signals.active_hour_jaccard = round(meanPairJaccard(sampled, opts.syncPairs, rng));

  // --- model pivot ----------------------------------------------------------------------
  let pivotShare = 0;
  let pivotAdoption = 0;
  let pivotRequests = 0;
  const adopting = ctx.newModels.map((_, i) => members.some((a) => ctx.newModelEarly[i]![a]));
  if (adopting.some(Boolean)) {
    const pivotMembers = sample(accounts, opts.pivotSample, rng);
    for (let i = 0; i < ctx.newModels.length; i++) {
      if (!adopting[i]) continue;
      const model = ctx.newModels[i]!;
      const r = modelPivot(pivotMembers, model.name, model.firstSeen, opts.pivotWindowHours);
      if (r.windowRequests < opts.pivotMinRequests) continue;
      if (r.share > pivotShare) {
        pivotShare = r.share;
        pivotAdoption = r.adoption;
        pivotRequests = r.windowRequests;
      }
    }
  }
  signals.new_models = ctx.newModels.length;
  signals.pivot_share_24h = round(pivotShare);
  signals.pivot_adoption_24h = round(pivotAdoption);
  signals.pivot_window_requests = pivotRequests;

  // --- benign: org, corporate domain, small team ---------------------------------------
  signals.org_share = round(modalShare(accounts, (a) => a.org));
  signals.corporate_domain_share = round(
    modalShare(accounts, (a) => {
      const d = a.emailDomain?.toLowerCase() ?? null;
      return d !== null && !ctx.webmail.has(d) ? d : null;
    }),
  );

  return { signals, sharedIdentifiers };
}

/** Share of accounts whose `valueOf` is the most common non-null, non-empty value. */
function modalShare(
  accounts: readonly AccountFacts[],
  valueOf: (a: AccountFacts) => string | null,
): number {
  if (accounts.length === 0) return 0;
  const counts = new Map<string, number>();
  let best = 0;
  for (const a of accounts) {
    const v = valueOf(a);
    if (v === null || v === '') continue;
    const c = (counts.get(v) ?? 0) + 1;
    counts.set(v, c);
    if (c > best) best = c;
  }
  return best / accounts.length;
}

/** Mean Jaccard of active-hour sets over up to `maxPairs` member pairs (all pairs when few). */
function meanPairJaccard(
  accounts: readonly AccountFacts[],
  maxPairs: number,
  rng: () => number,
): number {
  // keys read once per account: an account's `hours` may be decoded on each read
  const active = accounts.map((a) => a.hours.keys).filter((keys) => keys.length > 0);
  const k = active.length;
  if (k < 2) return 0;
  let sum = 0;
  let pairs = 0;
  if ((k * (k - 1)) / 2 <= maxPairs) {
    for (let i = 0; i < k; i++) {
      for (let j = i + 1; j < k; j++) {
        sum += jaccardSorted(active[i]!, active[j]!);
        pairs++;
      }
    }
  } else {
    for (let p = 0; p < maxPairs; p++) {
      const i = Math.floor(rng() * k);
      let j = Math.floor(rng() * (k - 1));
      if (j >= i) j++;
      sum += jaccardSorted(active[i]!, active[j]!);
      pairs++;
    }
  }
  return sum / pairs;
}

/**
 * Accounts per shared value of one kind (payment or subnet):
 *   <kind>_values: distinct values used by members;
 *   <kind>_max_accounts: members on the most shared value;
 *   <kind>_mean_accounts: mean members per value (over all values members use);
 *   <kind>_mean_shared_accounts: mean members per value shared by ≥ 2 members;
 *   <kind>_shared_member_share: share of members using a value shared by ≥ 2 members.
 */
function sharingSignals(
  ctx: Context,
  members: number[],
  ids: number[],
  kind: 'payment' | 'subnet',
): Record<string, number> {
  let max = 0;
  let total = 0;
  let sharedValues = 0;
  let sharedTotal = 0;
  for (const id of ids) {
    const c = ctx.memberCount[id]!;
    total += c;
    if (c > max) max = c;
    if (c >= 2) {
      sharedValues++;
      sharedTotal += c;
    }
  }
  let membersOnShared = 0;
  if (sharedValues > 0) {
    const { input } = ctx;
    for (const a of members) {
      for (let p = ctx.linkStart[a]!; p < ctx.linkStart[a + 1]!; p++) {
        const id = input.linkIdentifier[ctx.linkOrder[p]!]!;
        if (!ctx.allowed[id] && input.identifiers[id]!.kind === kind && ctx.memberCount[id]! >= 2) {
          membersOnShared++;
          break;
        }
      }
    }
  }
  return {
    [`${kind}_values`]: ids.length,
    [`${kind}_max_accounts`]: max,
    [`${kind}_mean_accounts`]: ids.length > 0 ? round(total / ids.length) : 0,
    [`${kind}_mean_shared_accounts`]: sharedValues > 0 ? round(sharedTotal / sharedValues) : 0,
    [`${kind}_shared_member_share`]:
      members.length > 0 ? round(membersOnShared / members.length) : 0,
  };
}

/**
 * Prompt templates (near-duplicate fingerprints grouped once per run, Hamming ≤ maxHamming):
 *   template_count: distinct templates members sent;
 *   template_top_share: share of members' prompt traffic on the top-k templates shared
 *     by ≥ 2 members, each template's traffic weighted by its exclusivity (top-k by
 *     weighted traffic);
 *   template_top_exclusivity: exclusivity of the top template = its account links
 *     inside the cluster / (those + its links from accounts in no community). A
 *     framework prompt sent by thousands of unrelated developers whom no community
 *     claims is near 0; a ring's own template, sent by the ring's sub-groups (each a
 *     community of its own), stays near 1 even when split over many clusters;
 *   template_shared_member_share: share of members sending a shared template.
 * Returns, for sharedIdentifiers, each shared template's most used fingerprint with
 * the template's member count.
 */
function templateSignals(
  ctx: Context,
  members: number[],
): { signals: Record<string, number>; representatives: Map<number, number> } {
  const { input, opts, tpl } = ctx;
  const representatives = new Map<number, number>();
  const touched: number[] = [];
  let totalRequests = 0;
  let membersOnShared = 0;
  for (const a of members) {
    for (let p = ctx.linkStart[a]!; p < ctx.linkStart[a + 1]!; p++) {
      const l = ctx.linkOrder[p]!;
      const id = input.linkIdentifier[l]!;
      const t = ctx.promptTemplate[id]!;
      if (t < 0 || ctx.allowed[id]) continue;
      const req = input.linkCount[l] ?? 0;
      totalRequests += req;
      if (tpl.last[t] === -1) touched.push(t);
      tpl.requests[t] = tpl.requests[t]! + req;
      tpl.inside[t] = tpl.inside[t]! + 1;
      const rep = tpl.rep[t]!;
      if (rep < 0 || ctx.memberCount[id]! > ctx.memberCount[rep]!) tpl.rep[t] = id;
      if (tpl.last[t] !== a) {
        tpl.last[t] = a;
        tpl.members[t] = tpl.members[t]! + 1;
      }
    }
  }
  const shared = touched.filter((t) => tpl.members[t]! >= 2);
  if (shared.length > 0) {
    for (const a of members) {
      for (let p = ctx.linkStart[a]!; p < ctx.linkStart[a + 1]!; p++) {
        const id = input.linkIdentifier[ctx.linkOrder[p]!]!;
        const t = ctx.promptTemplate[id]!;
        if (t >= 0 && !ctx.allowed[id] && tpl.members[t]! >= 2) {
          membersOnShared++;
          break;
        }
      }
    }
  }
  const exclusivity = (t: number): number =>
    tpl.inside[t]! / (tpl.inside[t]! + ctx.templateUnclustered[t]!);
  const weighted = (t: number): number => tpl.requests[t]! * exclusivity(t);
  shared.sort((x, y) => weighted(y) - weighted(x) || x - y);
  let topWeighted = 0;
  for (const t of shared.slice(0, opts.templateTopK)) topWeighted += weighted(t);
  const top = shared[0];
  for (const t of shared) representatives.set(tpl.rep[t]!, tpl.members[t]!);
  const signals = {
    template_count: touched.length,
    template_top_share: totalRequests > 0 ? round(topWeighted / totalRequests) : 0,
    template_top_exclusivity: top !== undefined ? round(exclusivity(top)) : 0,
    template_shared_member_share: round(membersOnShared / members.length),
  };
  for (const t of touched) {
    tpl.requests[t] = 0;
    tpl.inside[t] = 0;
    tpl.members[t] = 0;
    tpl.last[t] = -1;
    tpl.rep[t] = -1;
  }
  return { signals, representatives };
}

/**
 * Strongest shared values first: kindRank × members sharing it; prompts are reported
 * once per template (its most used fingerprint, with the template's member count).
 */
function rankShared(
  ctx: Context,
  touched: number[],
  promptRepresentatives: Map<number, number>,
): ScoredCluster['sharedIdentifiers'] {
  const { input, opts } = ctx;
  const rows: { kind: IdentifierKind; value: string; members: number; rank: number }[] = [];
  for (const id of touched) {
    const ident = input.identifiers[id]!;
    let count: number;
    if (ident.kind === 'prompt') {
      const c = promptRepresentatives.get(id);
      if (c === undefined) continue;
      count = c;
    } else {
      count = ctx.memberCount[id]!;
    }
    if (count < 2) continue;
    rows.push({
      kind: ident.kind,
      value: ident.value,
      members: count,
      rank: count * (opts.kindRank[ident.kind] ?? 0.1),
    });
  }
  rows.sort(
    (a, b) =>
      b.rank - a.rank ||
      b.members - a.members ||
      (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0) ||
      (a.value < b.value ? -1 : a.value > b.value ? 1 : 0),
  );
  return rows
    .slice(0, opts.sharedIdentifiersCap)
    .map(({ kind, value, members }) => ({ kind, value, members }));
}

/** Strength in [0, 1] of every code from the raw signals (the ramps documented in SIGNALS.md). */
export function strengthsOf(
  s: Record<string, number>,
  size: number,
  opts: ScoreOptions,
): { risk: Record<RiskCode, number>; benign: Record<BenignCode, number> } {
  const v = (k: string): number => s[k] ?? 0;
  const r = (k: keyof Ramps): number => ramp(v(k), opts.ramps[k][0], opts.ramps[k][1]);
  const rl = (k: keyof Ramps): number => rampLog(v(k), opts.ramps[k][0], opts.ramps[k][1]);
  const burst = r('signup_burst_share');
  const paymentSingle = v('payment_values') === 1 && v('payment_max_accounts') >= 0.8 * size;
  return {
    risk: {
      shared_payment_method: v('payment_shared_member_share') * rl('payment_mean_shared_accounts'),
      shared_subnet: v('subnet_shared_member_share') * rl('subnet_mean_shared_accounts'),
      shared_prompt_template: r('template_top_share'),
      capability_concentration: r('capability_hhi'),
      high_request_volume: rl('requests_ratio'),
      signup_burst: burst,
      synchronised_activity: r('active_hour_jaccard'),
      around_the_clock: r('around_the_clock'),
      model_pivot_24h: r('pivot_share_24h'),
    },
    benign: {
      benign_consistent_org: r('org_share'),
      benign_corporate_domain: r('corporate_domain_share'),
      benign_signups_spread: r('signup_span_days') * (1 - burst),
      benign_office_hours:
        r('office_window_share') *
        (v('activity_span_days') >= 14 ? 0.5 + 0.5 * r('weekend_share') : 1),
      benign_small_team:
        size <= opts.smallTeamMaxSize && paymentSingle && v('corporate_domain_share') >= 0.8
          ? 1
          : 0,
    },
  };
}

/** The value reported with each reason code (the raw signal a reviewer reads). */
const REASON_VALUE: Record<RiskCode | BenignCode, string> = {
  shared_payment_method: 'payment_mean_shared_accounts',
  shared_subnet: 'subnet_mean_shared_accounts',
  shared_prompt_template: 'template_top_share',
  capability_concentration: 'capability_hhi',
  high_request_volume: 'requests_ratio',
  signup_burst: 'signup_burst_share',
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
} {
  const { risk: pos, benign } = strengthsOf(signals, size, opts);
  const confidence = Math.min(
    1,
    Math.max(0, (size - 1) / Math.max(1, opts.fullConfidenceSize - 1)),
  );
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
  };
}
