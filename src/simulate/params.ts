/**
 * The simulator's parameters: one documented DEFAULTS table (mirrored in README.md) and
 * the scaling rule that turns it into the effective parameters for a run. Counts are for
 * scale 1 and scale linearly; floors keep every population present at small scales.
 */
import { MAX_SEED } from '../linkage/rng';
import { checkParams } from './check-params';

/** A `[min, max]` range, inclusive for integers. */
export type Range = readonly [number, number];

export interface CampaignParams {
  /** Fake accounts at scale 1. */
  accounts: number;
  /** Requests over the whole window at scale 1. */
  requests: number;
  /** Accounts per sub-group (operator cell), drawn uniformly. */
  subgroupSize: Range;
  /** Accounts sharing one payment method, drawn uniformly per method. */
  accountsPerPaymentMethod: Range;
  /** Proxy IPs a sub-group rotates through, drawn from the shared proxy network. */
  proxiesPerSubgroup: Range;
  /** Share of a sub-group's requests that imitate ordinary traffic (camouflage). */
  camouflage: Range;
  /** Prompt templates the campaign runs; each sub-group uses 1-3 of them. */
  templates: number;
  /** Capability label weights for the campaign's own (non-camouflage) requests. */
  capabilities: Record<string, number>;
  /** Share of traffic moved to the new model after release (0 = no pivot). */
  pivotShare: number;
  /** Each sub-group pivots this many hours after release, drawn uniformly. */
  pivotLagHours: Range;
}

export interface BenignParams {
  /** Accounts at scale 1. */
  accounts: number;
  /** Units (companies, campuses, carriers, VPN providers, hackathons...) at scale 1. */
  units: number;
  /** Requests over the whole window at scale 1. */
  requests: number;
}

export const DEFAULTS = {
  /** First day of the window (UTC midnight). */
  startDate: '2026-01-01',
  /** Length of the window in days. */
  days: 90,
  /** Day (0-based) the new model is released. */
  releaseDay: 60,
  /** UTC hour of the release on releaseDay. */
  releaseHourUtc: 17,
  /** Models in use before the release, with their traffic weights. */
  oldModels: { 'model-a': 0.7, 'model-b': 0.3 } as Record<string, number>,
  /** The newly released model. */
  newModel: 'model-c',
  /** Ordinary accounts move this share of traffic to the new model per day since release... */
  adoptionPerDay: 0.015,
  /** ...up to this share. */
  adoptionMax: 0.35,
  /** Heavy users adopt faster: share per day since release, and cap. */
  heavyAdoptionPerDay: 0.08,
  heavyAdoptionMax: 0.6,
  /** Benign accounts signed up before the window (sign-ups emitted before day 0). */
  preexistingShare: 0.45,
  /** How far before the window pre-existing accounts signed up, in days. */
  preWindowDays: 180,
  /** Sign-up growth: density at the window's end relative to its start. */
  signupGrowth: 3,
  /** Share of sign-ups that carry a device fingerprint. */
  deviceShare: 0.3,
  /** Share of accounts that add a second payment method later. */
  secondPaymentShare: 0.05,
  /**
   * Minimum accounts per campaign at any scale: room for two sub-groups of the smallest
   * size, though a draw above it takes them all (a rest under that size joins the last
   * sub-group), so at the floor a campaign is one cell but 1 time in 131.
   */
  minCampaignAccounts: 40,
  /** Minimum accounts per benign population at any scale. */
  minBenignAccounts: 20,
  /** Minimum heavy users at any scale. */
  minHeavyUsers: 3,

  campaigns: {
    /** Reasoning-trace harvesting: CoT elicitation, rubric grading, policy-sensitive rewrites. */
    reasoning: {
      accounts: 1_500,
      requests: 150_000,
      subgroupSize: [20, 150],
      accountsPerPaymentMethod: [3, 30],
      proxiesPerSubgroup: [5, 15],
      camouflage: [0.1, 0.2],
      templates: 4,
      capabilities: { reasoning: 0.85, writing: 0.1, chat: 0.05 },
      pivotShare: 0,
      pivotLagHours: [0, 0],
    },
    /** Agentic reasoning, tool use and data analysis. */
    agentic: {
      accounts: 7_500,
      requests: 3_400_000,
      subgroupSize: [20, 150],
      accountsPerPaymentMethod: [3, 30],
      proxiesPerSubgroup: [8, 25],
      camouflage: [0.1, 0.2],
      templates: 6,
      capabilities: { tool_use: 0.5, reasoning: 0.2, data_analysis: 0.25, coding: 0.05 },
      pivotShare: 0,
      pivotLagHours: [0, 0],
    },
    /** Agentic coding and orchestration; moves half its traffic to the new model. */
    coding: {
      accounts: 15_000,
      requests: 13_000_000,
      subgroupSize: [20, 150],
      accountsPerPaymentMethod: [3, 30],
      proxiesPerSubgroup: [10, 30],
      camouflage: [0.1, 0.2],
      templates: 8,
      capabilities: { coding: 0.8, tool_use: 0.15, reasoning: 0.05 },
      pivotShare: 0.5,
      pivotLagHours: [0, 2],
    },
  } as Record<'reasoning' | 'agentic' | 'coding', CampaignParams>,
  /**
   * Share of campaign accounts that use the previous sub-group's payment method instead
   * of their own cell's (loose links between cells); 0 in the evasion bench's `own-card`,
   * where every account has a card of its own.
   */
  crossCellCardShare: 0.04,
  /** Campaign sub-groups sign up in a burst on a day drawn from this range. */
  campaignSignupDays: [0, 70] as Range,
  /** A sub-group's sign-up burst lasts this many hours. */
  campaignBurstHours: 6,
  /**
   * Posing as companies (0 / false: off). The evasion bench's posing variants
   * (`claim-org` … `pose-as-company`) use these to test the benign signals a ring can
   * fake: days over which a sub-group's sign-ups spread instead of a burst (stopping a
   * day before the window's end); the share of sub-groups that declare
   * an org and a corporate email domain of their own; waves in a 9-hour office window
   * of a drawn time zone, on weekdays (a tenth of the volume at weekends, as companies).
   */
  campaignSignupSpreadDays: 0,
  campaignOrgShare: 0,
  campaignOfficeHours: false,
  /**
   * Days a sub-group stays active after its sign-up burst (capped at the window's end);
   * with spread sign-ups, after each account's own sign-up.
   */
  campaignLifetimeDays: [30, 90] as Range,
  /** Synchronised work waves per sub-group per day, around the clock (office hours when posing). */
  wavesPerDay: [8, 24] as Range,
  /** Requests of a wave start within this many minutes after the wave (never before it). */
  waveJitterMinutes: 20,
  /** Spread of per-account volume inside a campaign (log-normal sigma). */
  campaignVolumeSigma: 0.3,
  /** Sign-ups in a sub-group that carry a device share a pool of this many devices. */
  campaignDevicesPerSubgroup: [1, 4] as Range,
  /** Every campaign sign-up with a device has one of its own instead (evasion bench `own-device`). */
  campaignOwnDevices: false,
  /**
   * Share of days a campaign account is active, its volume the same over fewer days
   * (evasion bench `part-time`; benign accounts: `benignActiveDayShare`). 1: every day.
   */
  campaignActiveDayShare: 1,
  /**
   * Camouflage in ordinary traffic's proportions (framework prompt at
   * `frameworkBackgroundShare`, everyday questions at `genericShare`, the rest one-offs;
   * the evasion bench's `ordinary-camouflage`). Off (the default), camouflage is a quarter
   * framework prompt, half everyday questions, a quarter one-offs: 12.5× ordinary
   * traffic's framework share, enough for co-use to link cells that share nothing else.
   */
  campaignOrdinaryCamouflage: false,
  /** Residential proxy network the campaigns rent: exit IPs and IPs per /24. */
  proxyIps: 4_000,
  proxyIpsPerSubnet: 4,
  /**
   * Share of the proxy network's subnets that are IPv6 /48s instead of IPv4 /24s (0: none;
   * evasion bench `ipv6-proxies`). 15 % of residential addresses are IPv6 in every world.
   */
  proxyIpv6Share: 0,
  /**
   * Ordinary customers of the same proxy network (benign:individual, subgroup proxy_user),
   * each on 1-3 of the IPs campaigns use; at least one per such IP (more than 3 each
   * when there are fewer individuals than such IPs).
   */
  proxyBenignUsers: 12_000,
  /** Share of a proxy user's requests that go through the proxy network. */
  proxyBenignTrafficShare: 0.6,
  /** A proxy user's volume relative to a plain individual's (within the group's requests). */
  proxyBenignVolume: 3,

  benign: {
    /** Plain individuals: own card, residential IP, webmail, diverse prompts. */
    individual: { accounts: 200_000, units: 1, requests: 3_300_000 },
    /** Companies: shared corporate card, office /24, company domain and org, internal template. */
    company: { accounts: 14_000, units: 400, requests: 1_200_000 },
    /** Startups: ~10 engineers sharing one card and a domain, working from home. */
    startup: { accounts: 3_000, units: 300, requests: 400_000 },
    /** Campuses: thousands of students behind a few NAT IPs, .edu, own cards, class burst. */
    campus_nat: { accounts: 12_000, units: 6, requests: 500_000 },
    /** Mobile carrier NATs: many unrelated accounts over a pool of CGNAT IPs. */
    carrier_nat: { accounts: 12_000, units: 8, requests: 400_000 },
    /** VPN exits: thousands of unrelated accounts on a few exit IPs. */
    vpn: { accounts: 8_000, units: 5, requests: 300_000 },
    /** Developers sending one of two popular framework system prompts. */
    framework_devs: { accounts: 6_000, units: 2, requests: 600_000 },
    /** Hackathons: hundreds sign up within hours at one venue. */
    signup_burst: { accounts: 2_000, units: 4, requests: 100_000 },
    /** Heavy individual users: one account, huge volume, around the clock. */
    heavy_user: { accounts: 40, units: 40, requests: 1_200_000 },
  } as Record<BenignGroup, BenignParams>,
  /** Company size range (staff with accounts). */
  companySize: [10, 60] as Range,
  /** Office IPs per company (all in one /24). */
  officeIps: [2, 6] as Range,
  /**
   * /24s a company's office traffic leaves from (1: the office's own /24; more: a cloud
   * security gateway's egress pool, two IPs per /24, in place of the office IPs).
   */
  companyEgressSubnets: 1,
  /** Share of company staff requests sent from home. */
  companyHomeShare: 0.2,
  /** Share of company requests using the company's internal agent template. */
  companyTemplateShare: 0.35,
  /**
   * Companies built on an internal coding agent (0: none). Their staff send
   * `companyAgentTemplateShare` of their requests through it, mostly coding, at
   * `companyAgentVolume` times a colleague's volume (added to the table's company
   * requests), and within 24 h of the release that share of all their requests moves to
   * the new model (one config change; the rest never adopts it). The benign world a ring
   * posing as a company resembles (bench/quality/evasion.ts, `agent-company*`).
   */
  companyAgentShare: 0,
  companyAgentTemplateShare: 0.8,
  companyAgentVolume: 10,
  /**
   * When agent companies' traffic runs: office hours like other companies, an agent left
   * running through the night at a lower rate ('flat': the heavy users' profile, busiest
   * by day but never idle), or evenly over the day ('clock').
   */
  companyAgentHours: 'office' as 'office' | 'flat' | 'clock',
  /**
   * Benign stressors, the benign look-alikes of habits only rings have in the default
   * world (0: off; the evasion bench's `webmail-teams`, `sponsored-hackathon`,
   * `fast-adopters` and `benign-stress`). Drawn after the rest of the population from a
   * stream of their own, so turning one on changes nothing else.
   * `teamWebmailShare`: companies and startups whose staff sign up with their personal
   * webmail and declare no org (the shared card, office and template stay).
   * `sponsoredHackathonShare`: hackathons whose sponsor pays for every participant's
   * account with one card.
   * `fastAdopterShare`: accounts of `fastAdopterGroups` that move `fastAdopterTraffic`
   * of their requests to the new model `fastAdopterLagHours` after its release (both
   * drawn per account), as users who switch their tools' default model at once do; that
   * switch is drawn in generate.ts from a stream of its own, so the events stay the same
   * but for those accounts' models.
   * `sharedDeviceShare`: benign accounts with a device fingerprint that share it, as a
   * campus's lab machines (`sharedDeviceLabMachines` per campus) and households (2–4
   * plain individuals on one device) do; in the default world only rings share devices.
   */
  teamWebmailShare: 0,
  sharedDeviceShare: 0,
  sharedDeviceLabMachines: 8,
  sponsoredHackathonShare: 0,
  fastAdopterShare: 0,
  fastAdopterGroups: [
    'company',
    'startup',
    'framework_devs',
    'signup_burst',
    'heavy_user',
  ] as BenignGroup[],
  fastAdopterLagHours: [0, 6] as Range,
  fastAdopterTraffic: [0.5, 0.9] as Range,
  /** Startup engineers' requests on the startup's shared template. */
  startupTemplateShare: 0.3,
  /** NAT IPs per campus, per carrier; exit IPs per VPN provider; venue IPs per hackathon. */
  campusNatIps: [2, 5] as Range,
  carrierNatIps: [20, 60] as Range,
  vpnExitIps: [3, 10] as Range,
  /**
   * How many of those addresses sit in one /24 before the pool takes another: a campus
   * NAT and a VPN provider in one /24, a carrier over /24s of 20. Real pools are often
   * wider; the look-alike bench (bench/quality/evasion.ts) spreads them.
   */
  campusNatIpsPerSubnet: 250,
  carrierNatIpsPerSubnet: 20,
  vpnExitIpsPerSubnet: 250,
  /** Share of framework developers whose traffic goes mostly through a carrier NAT pool. */
  frameworkDevsOnCarrierShare: 0,
  venueIps: [2, 4] as Range,
  /** Share of a campus's students who sign up in the class burst (2 days). */
  campusBurstShare: 0.4,
  /** Share of burst students' requests on the course's homework template. */
  courseTemplateShare: 0.2,
  /** Hackathon sign-ups happen within this many hours. */
  hackathonBurstHours: 3,
  /** Share of framework developers' requests using the framework prompt. */
  frameworkShare: 0.6,
  /** Share of other benign requests that use a framework prompt. */
  frameworkBackgroundShare: 0.02,
  /** Share of benign requests drawn from the shared everyday-question pool (rest one-off). */
  genericShare: 0.25,
  /** Heavy users' requests on their personal automation template. */
  heavyTemplateShare: 0.7,
  /** Spread of per-account volume among benign accounts (log-normal sigma). */
  benignVolumeSigma: 1.0,
  /** Chance a benign account is active on a given day after sign-up. */
  benignActiveDayShare: 0.35,
  /** Capability weights for ordinary requests. */
  benignCapabilities: {
    chat: 0.4,
    coding: 0.25,
    writing: 0.15,
    reasoning: 0.08,
    tool_use: 0.07,
    data_analysis: 0.05,
  } as Record<string, number>,
  /** Local-time UTC offsets (hours) accounts live in, with weights. */
  timeZones: {
    '-8': 0.15,
    '-5': 0.2,
    '0': 0.1,
    '1': 0.15,
    '2': 0.05,
    '5.5': 0.12,
    '8': 0.15,
    '9': 0.08,
  } as Record<string, number>,

  /** Words in a template's system prompt (long, so variants are near-duplicates). */
  systemWords: [250, 400] as Range,
  /**
   * Campaign and framework variants are kept only within this Hamming distance of their
   * template's reference variant, so pairs are near-duplicates (mostly <= 3), rarely identical.
   */
  templateMaxDistance: 2,
  /**
   * Paraphrasing campaigns (0: off; the evasion bench's `paraphrase`): each variant of a
   * campaign template rewords this share of its system prompt's sentences, and is kept
   * only more than `campaignParaphraseApart` bits from every other kept variant (3:
   * LINKAGE_PROMPT_MAX_HAMMING's default), so linkage joins none, not even through a
   * chain. Framework templates are not paraphrased.
   */
  campaignParaphraseShare: 0,
  campaignParaphraseApart: 3,
  /** Pre-fingerprinted variants per campaign / framework template. */
  variantsPerTemplate: 200,
  /** Variants per company, startup, course and personal template. */
  variantsPerSmallTemplate: 30,
  /** Everyday questions in the shared pool at scale 1 (Zipf popularity). */
  genericPoolSize: 40_000,
  /** Zipf exponent of everyday-question popularity. */
  genericZipf: 1.05,
  /** Share of requests that carry the raw `prompt` instead of `promptFingerprint`. */
  rawPromptFraction: 0,
};

export type BenignGroup =
  | 'individual'
  | 'company'
  | 'startup'
  | 'campus_nat'
  | 'carrier_nat'
  | 'vpn'
  | 'framework_devs'
  | 'signup_burst'
  | 'heavy_user';

export type CampaignName = 'reasoning' | 'agentic' | 'coding';

export type SimParams = typeof DEFAULTS;

export interface EffectiveParams extends SimParams {
  scale: number;
  seed: number;
}

/**
 * Refuses a seed that is not an integer in [0, 2^32): rng.ts folds seeds to 32 bits, so
 * NaN, −1 and 2^32 would run as another seed's twin.
 */
function checkSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED)
    throw new Error(`seed must be an integer in [0, 2^32) (seeds are 32-bit), got ${seed}`);
}

/**
 * The largest scale the simulator takes. A day's events are sorted in memory, at most
 * 2^22 of them (generate.ts); the busiest day holds ~416 k events at scale 1 (41,426 at
 * scale 0.1, seed 42, on 12-07), so that limit falls near scale 10, and a scale past it ran for
 * hours before it failed. 5 keeps a margin of two; overrides that crowd a day more are
 * refused on the population's expected busiest day (Generator), before any event.
 */
export const MAX_SCALE = 5;

/** Scale every count in the table (units, accounts, requests, pools) with floors. */
export function effectiveParams(
  scale: number,
  seed: number,
  overrides: Partial<SimParams> = {},
): EffectiveParams {
  if (!(scale > 0) || !Number.isFinite(scale))
    throw new Error(`scale must be a finite number > 0, got ${scale}`);
  if (scale > MAX_SCALE)
    throw new Error(
      `scale must be at most ${MAX_SCALE} (the busiest day holds ~416 k events at scale 1 ` +
        `and one day at most 4,194,304), got ${scale}`,
    );
  checkSeed(seed);
  const p: SimParams = { ...DEFAULTS, ...overrides };
  checkParams(p, DEFAULTS);
  const campaigns = {} as SimParams['campaigns'];
  for (const [name, c] of Object.entries(p.campaigns) as [CampaignName, CampaignParams][]) {
    campaigns[name] = {
      ...c,
      accounts: Math.max(p.minCampaignAccounts, Math.round(c.accounts * scale)),
      requests: Math.round(c.requests * scale),
    };
  }
  const benign = {} as SimParams['benign'];
  for (const [name, b] of Object.entries(p.benign) as [BenignGroup, BenignParams][]) {
    const floor = name === 'heavy_user' ? p.minHeavyUsers : p.minBenignAccounts;
    const accounts = Math.max(floor, Math.round(b.accounts * scale));
    benign[name] = {
      accounts,
      units: Math.min(accounts, Math.max(1, Math.round(b.units * scale))),
      requests: Math.round(b.requests * scale),
    };
  }
  if (benign.framework_devs.units < 2) benign.framework_devs.units = 2;
  return {
    ...p,
    campaigns,
    benign,
    proxyIps: Math.max(200, Math.round(p.proxyIps * scale)),
    proxyBenignUsers: Math.max(10, Math.round(p.proxyBenignUsers * scale)),
    genericPoolSize: Math.max(500, Math.round(p.genericPoolSize * scale)),
    scale,
    seed,
  };
}
