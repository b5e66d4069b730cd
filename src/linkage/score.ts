/**
 * Score stage (pure): turns each detected community into a ScoredCluster with a risk
 * in [0, 1], a flag, readable reasons and every raw signal value.
 *
 * Why it looks like this: a reviewer must be able to read why a cluster is risky.
 * Each signal is a plain, documented measurement (accounts per shared card, share of
 * traffic on a few templates, sign-up bursts, …), mapped to a strength in [0, 1] by
 * a linear ramp; risk is a logistic over bias + Σ weight·strength − Σ benignWeight·
 * benignStrength (signals/combine.ts), with every weight in DEFAULTS
 * (score-options.ts). Benign look-alikes (a company, a campus NAT, a VPN exit,
 * developers sharing a framework prompt) are kept low by benign signals and by
 * discounting shared values that are common outside the cluster. See src/linkage/SIGNALS.md for each signal's meaning, formula and weight.
 *
 * Cost: one pass over all account–identifier links, plus per-cluster work capped
 * by sampling (seeded) for the hour-series signals; no all-pairs work anywhere.
 */
import { canonicalDomain } from '../ingest/event-schema';
import { createRng } from './rng';
import { checkTemplates, promptTemplates, type PromptTemplates } from './lsh';
import { scoreOptions, type ScoreOptionsInput } from './score-options';
import {
  DAY_MS,
  activeKeys,
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
import { combine } from './signals/combine';
import { buildContext, type Context } from './signals/context';
import { concentration, medianSorted, round, sample } from './signals/numbers';
import { rankShared, sharingSignals, templateSignals } from './signals/shared-values';
import {
  eventCount,
  type AccountFacts,
  type Detection,
  type IdentifierKind,
  type LinkageInput,
  type ScoredCluster,
} from './types';

export {
  BENIGN_CODES,
  DEFAULTS,
  RISK_CODES,
  scoreOptions,
  type BenignCode,
  type RiskCode,
  type ScoreOptions,
  type ScoreOptionsInput,
} from './score-options';

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
  if (templates) checkTemplates(templates, opts.templateMaxHamming, input.allowlist);
  const ctx = buildContext(
    input,
    community,
    largest,
    opts,
    templates ?? promptTemplates(input.identifiers, opts.templateMaxHamming, input.allowlist),
  );

  const out: ScoredCluster[] = [];
  groups.forEach((members) => {
    if (members.length > 0) out.push(scoreCluster(ctx, members));
  });
  return out;
}

/**
 * The seed of a cluster's samples (members of a big cluster whose hours and pivot are
 * measured): from the run's seed and its smallest member id, not its index, so a cluster
 * that did not change scores the same when a community before it appears or goes.
 */
function clusterSeed(seed: number, accounts: readonly { id: string }[], members: number[]): number {
  let first = accounts[members[0]!]!.id;
  for (const a of members) {
    const id = accounts[a]!.id;
    if (id < first) first = id;
  }
  // FNV-1a over the id's UTF-16 units, started from the seed.
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < first.length; i++) {
    h = Math.imul(h ^ first.charCodeAt(i), 0x01000193) >>> 0;
  }
  return h;
}

/** Raw measurements of one cluster; turned into strengths and risk by `combine`. */
interface Measured {
  signals: Record<string, number>;
  sharedIdentifiers: ScoredCluster['sharedIdentifiers'];
}

function scoreCluster(ctx: Context, members: number[]): ScoredCluster {
  const { opts } = ctx;
  const rng = createRng(clusterSeed(opts.seed, ctx.input.accounts, members));
  const m = measure(ctx, members, rng);
  // counts are read by eventCount; this only catches a sum that overflows, so that no
  // signal or reason value is ever non-finite (the API's reasons hold numbers)
  for (const [key, value] of Object.entries(m.signals)) {
    if (!Number.isFinite(value)) m.signals[key] = 0;
  }
  const { risk, z, confidence, reasons, strengths, contributions, harvest, claims } = combine(
    m.signals,
    members.length,
    opts,
  );
  const signals = { ...m.signals };
  for (const [code, s] of Object.entries(strengths)) signals[`strength_${code}`] = round(s);
  for (const [code, c] of Object.entries(contributions)) signals[`contribution_${code}`] = round(c);
  signals.harvest_evidence = round(harvest);
  // what took the org, domain, spread and small-team credits away (SIGNALS.md, claims discount)
  signals.claims_discount = round(claims.discount);
  signals.claims_discount_hours = round(claims.hours);
  signals.claims_discount_network = round(claims.network);
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
  // Allow-listed cards and subnets are never shared evidence, but are counted: a card is
  // still the members' one card for benign_small_team, and both stay in the denominator
  // of the mean members per shared value, so that listing one never raises that mean.
  const listed: number[] = [];
  for (const a of members) {
    for (let p = ctx.linkStart[a]!; p < ctx.linkStart[a + 1]!; p++) {
      const l = ctx.linkOrder[p]!;
      const id = input.linkIdentifier[l]!;
      let seen = touched;
      if (ctx.allowed[id]) {
        const kind = input.identifiers.kind(id);
        if (kind !== 'payment' && kind !== 'subnet') continue;
        seen = listed;
      }
      if (ctx.lastMember[id] === -1) seen.push(id);
      if (ctx.lastMember[id] === a) continue;
      ctx.lastMember[id] = a;
      ctx.memberCount[id] = ctx.memberCount[id]! + 1;
    }
  }

  const payments = ofKind(ctx, touched, 'payment');
  const subnets = ofKind(ctx, touched, 'subnet');
  const listedPayments = ofKind(ctx, listed, 'payment');
  Object.assign(signals, sharingSignals(ctx, members, payments, listedPayments, 'payment'));
  let listedPaymentMax = 0;
  for (const id of listedPayments)
    listedPaymentMax = Math.max(listedPaymentMax, ctx.memberCount[id]!);
  signals.payment_values_all = payments.length + listedPayments.length;
  signals.payment_max_accounts_all = Math.max(signals.payment_max_accounts!, listedPaymentMax);
  const listedSubnets = ofKind(ctx, listed, 'subnet');
  Object.assign(signals, sharingSignals(ctx, members, subnets, listedSubnets, 'subnet'));
  const templates = templateSignals(ctx, members);
  Object.assign(signals, templates.signals);

  const sharedIdentifiers = rankShared(ctx, touched, templates.representatives);

  for (const ids of [touched, listed]) {
    for (const id of ids) {
      ctx.memberCount[id] = 0;
      ctx.lastMember[id] = -1;
    }
  }

  // --- capability concentration -----------------------------------------------------
  const capabilities = new Map<string, number>();
  for (const acc of accounts) {
    for (const cap of acc.capabilities) {
      capabilities.set(cap.name, (capabilities.get(cap.name) ?? 0) + eventCount(cap.count));
    }
  }
  const { hhi, top: topCapability, total: capabilityTotal } = concentration(capabilities.values());
  signals.capability_hhi = round(hhi);
  signals.capability_top_share = round(topCapability);

  // --- request volume ---------------------------------------------------------------
  const requests = ctx.scratchA.subarray(0, n);
  let requestTotal = 0;
  for (let i = 0; i < n; i++) {
    requests[i] = eventCount(accounts[i]!.requests);
    requestTotal += requests[i]!;
  }
  // How much of the traffic the label and template signals saw: both fields are optional
  // on an event, and one labelled request must not read as a whole cluster's (combine.ts).
  const shareSeen = (part: number) =>
    requestTotal > 0 ? round(Math.min(1, part / requestTotal)) : 0;
  signals.capability_known = shareSeen(capabilityTotal);
  signals.prompt_known = shareSeen(templates.promptRequests);
  const medianRequests = medianSorted(requests.sort());
  signals.requests_median = medianRequests;
  signals.requests_population_median = ctx.populationMedianRequests;
  signals.requests_population_accounts = ctx.populationActiveAccounts;
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
  // over all members: a member whose sign-up is unknown is no evidence of a batch
  signals.signup_burst_max_share = round(inBusiest / n);
  signals.signup_burst_share = round(inBursts / n);
  signals.signup_span_days =
    signups.length >= 2
      ? round((quantileSorted(signups, 0.9) - quantileSorted(signups, 0.1)) / DAY_MS, 2)
      : 0;

  // --- activity: around the clock, office hours, overlap of active hours --------------
  const sampled = sample(accounts, opts.activitySample, rng);
  const clusterHours = new Float64Array(24);
  const memberHours = new Float64Array(24);
  // Office hours and weekends as the mean of the members' own shares, each weighing as its
  // requests up to aroundMinRequests: summed raw, one heavy member could lend a ring its
  // office schedule; weighing all alike, many one-request throwaways could.
  const memberWeekend = { weekend: 0, total: 0 };
  let weekendShareSum = 0;
  let shareWeights = 0;
  let entropySum = 0;
  let entropyCount = 0;
  let quietSum = 0;
  let quietCount = 0;
  let minHour = Infinity;
  let maxHour = -Infinity;
  let activeSampled = 0;
  // active hours (count > 0) per sampled member, read once: `hours` may decode on each read
  const sampledKeys: (readonly number[])[] = [];
  for (const acc of sampled) {
    const hours = acc.hours;
    const keys = activeKeys(hours);
    sampledKeys.push(keys);
    memberHours.fill(0);
    memberWeekend.weekend = 0;
    memberWeekend.total = 0;
    const total = addHourOfDay(hours, memberHours, memberWeekend);
    if (total <= 0) continue;
    activeSampled++;
    const capped = Math.min(total, opts.aroundMinRequests);
    const weight = capped / total;
    for (let h = 0; h < 24; h++) clusterHours[h] = clusterHours[h]! + memberHours[h]! * weight;
    weekendShareSum += memberWeekend.weekend * weight;
    shareWeights += capped;
    entropySum += normalisedEntropy(memberHours);
    entropyCount++;
    if (total >= opts.aroundMinRequests) {
      quietSum += quietestWindowShare(memberHours, opts.quietWindowHours);
      quietCount++;
    }
    if (keys.length > 0) {
      minHour = Math.min(minHour, keys[0]!);
      maxHour = Math.max(maxHour, keys[keys.length - 1]!);
    }
  }
  signals.hour_entropy_mean = entropyCount > 0 ? round(entropySum / entropyCount) : 0;
  // quiet-window share relative to a flat day (1 = no quiet hours at all), over all the
  // sampled members, those too light to measure counting 0: one service account among
  // light users is not a cluster that runs around the clock
  signals.activity_sampled = sampled.length;
  signals.around_the_clock_measured = quietCount;
  signals.around_the_clock =
    sampled.length > 0
      ? round(Math.min(1, quietSum / sampled.length / (opts.quietWindowHours / 24)))
      : 0;
  signals.office_window_share = round(bestWindowShare(clusterHours, opts.officeWindowHours));
  // The office credit counts only as far as the sampled members are active at all: one
  // member's office day must not lend it to 19 that never sent a request (review, 12-06).
  signals.active_member_share = sampled.length > 0 ? round(activeSampled / sampled.length) : 0;
  signals.weekend_share = shareWeights > 0 ? round(weekendShareSum / shareWeights) : 0;
  // UTC calendar days from the first active one to the last, both counted: two whole
  // weeks of office hours span 14 (first to last active hour, 13.4, missed the rule's 14)
  signals.activity_span_days = Number.isFinite(minHour)
    ? Math.floor(maxHour / 24) - Math.floor(minHour / 24) + 1
    : 0;
  signals.active_hour_jaccard = round(meanPairJaccard(sampledKeys, opts.syncPairs, rng));

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
      const r = modelPivot(
        pivotMembers,
        model.name,
        model.firstSeen,
        opts.pivotWindowHours,
        opts.pivotMinRequests,
      );
      // The model with the highest share; with none above 0, the one with the most
      // requests in its window, so the adoption and the evidence behind a 0 are shown.
      if (
        r.share > pivotShare ||
        (r.share === pivotShare && r.windowRequests > pivotRequests) ||
        (r.share === pivotShare && r.windowRequests === pivotRequests && r.adoption > pivotAdoption)
      ) {
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
      // Ingest stores it canonical; a graph loaded before it did may hold 'gmail.com.'.
      const d = a.emailDomain === null ? null : canonicalDomain(a.emailDomain) || null;
      return d !== null && !ctx.isWebmail(d) ? d : null;
    }),
  );

  return { signals, sharedIdentifiers };
}

/** The identifiers of `ids` of one kind, in order. */
function ofKind(ctx: Context, ids: number[], kind: IdentifierKind): number[] {
  return ids.filter((id) => ctx.input.identifiers.kind(id) === kind);
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

/**
 * Mean Jaccard of active-hour sets (one per member) over up to `maxPairs` pairs of
 * active members (all pairs when few), × the share of members that are active: two
 * members on one schedule among dormant ones are not a synchronised cluster.
 */
function meanPairJaccard(
  memberKeys: readonly (readonly number[])[],
  maxPairs: number,
  rng: () => number,
): number {
  const active = memberKeys.filter((keys) => keys.length > 0);
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
  return (sum / pairs) * (k / memberKeys.length);
}
