/**
 * How far detection holds when the campaigns change their habits. Each variant
 * simulates the same world with one campaign habit changed (all three campaigns), runs
 * the in-memory loop (fold → build → detect → score, as in-memory.ts; it reproduced the
 * real run's figures at seed 42) and only then evaluates against the truth. Benign
 * populations are the defaults in every evasion variant (`paraphrase` rewords only the
 * campaigns' templates, from streams of their own).
 *
 * Look-alike variants change the benign world instead, toward what co-use linking (a
 * template sent heavily over the same /24s) could mistake for a ring: NAT and VPN pools
 * over many /24s, framework developers behind those pools, a class sending its homework
 * prompt heavily from a wide campus. The campaigns keep their defaults there.
 *
 * Posing variants have the rings fake the benign signals (an org and a corporate domain,
 * sign-ups over weeks, office hours); `agent-company` is the benign world a complete
 * pose resembles: companies built on a heavy internal agent that switch its model fast.
 *
 * Benign stressors (`webmail-teams`, `sponsored-hackathon`, `fast-adopters`,
 * `benign-stress`) give benign groups habits only rings have in the default world: a
 * team card without a corporate domain or org, one card for a whole hackathon, a move
 * to the new model within hours. The campaigns keep their defaults there.
 *
 *   npx tsx bench/quality/evasion.ts [--scale 0.1] [--seeds 42,7] [--variants a,b]
 *     [--out bench/out/evasion.md] [--details] [--dump DIR] [--weights JSON]
 *
 * `--weights` takes LINKAGE_WEIGHTS' JSON, checked as the service checks it (e.g.
 * `'{"build":{"coActivityBands":0}}'` for a run without co-activity);
 * `--details` adds each row's full evaluation (precision, every group's flag rate);
 * `--dump DIR` writes every cluster's signals and truth mix per row (in-memory.ts).
 * Data goes to bench/out/evasion/<variant>-<scale>-<seed>/ and is reused while the
 * variant's parameters and the simulator's sources are unchanged (in-memory.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULTS, type SimParams } from '../../src/simulate';
import type { CampaignParams } from '../../src/simulate/params';
import { scaleOption, seedsOption } from './args';
import {
  type Evaluation,
  SEGMENT_NOT_PLAIN,
  SEGMENT_PROXY_USERS,
  formatEvaluation,
} from './evaluate';
import { parseWeightOverrides } from '../../src/linkage/settings';
import { type InMemoryResult, dumpClusters, runInMemory } from './in-memory';
import { benchArgs, runBench } from '../options';

/** A habit change: fields patched in every campaign, and top-level fields. */
type Change = { what: string; campaign?: Partial<CampaignParams>; world?: Partial<SimParams> };
type Variant = Change & { name: string };

const EVASIONS: Record<string, Change> = {
  'own-card': {
    what: 'one payment method per account (no shared cards, none reused across cells)',
    campaign: { accountsPerPaymentMethod: [1, 1] },
    world: { crossCellCardShare: 0 },
  },
  'camouflage-60': {
    what: '50–70 % of requests imitate ordinary traffic (default 10–20 %)',
    campaign: { camouflage: [0.5, 0.7] },
  },
  'ordinary-camouflage': {
    what: "camouflage in ordinary traffic's proportions: the framework prompt 2 % of it (default a quarter, 12.5× ordinary)",
    world: { campaignOrdinaryCamouflage: true },
  },
  'small-cells': {
    what: 'sub-groups of 5–15 accounts (default 20–150)',
    campaign: { subgroupSize: [5, 15] },
  },
  'wide-proxies': {
    what: 'each sub-group rotates over 60–120 proxy IPs (default 5–30)',
    campaign: { proxiesPerSubgroup: [60, 120] },
  },
  'ipv6-proxies': {
    what: 'half the proxy network is IPv6: /48s of 4 exits each (default IPv4 /24s only)',
    world: { proxyIpv6Share: 0.5 },
  },
  paraphrase: {
    what: 'every template variant rewords 30 % of the system prompt; no two within 3 bits, so linkage joins none (default: only the task line varies, ~90 % of pairs ≤ 3)',
    world: { campaignParaphraseShare: 0.3 },
  },
  'own-device': {
    what: 'every sign-up with a device has its own (default: 1–4 per sub-group)',
    world: { campaignOwnDevices: true },
  },
  'slow-signup': {
    what: 'a sub-group signs up over 20 h (default 6 h)',
    world: { campaignBurstHours: 20 },
  },
  desync: {
    what: 'requests start up to 3 h after their wave (default 20 min)',
    world: { waveJitterMinutes: 180 },
  },
};

/**
 * Network and habit changes that `all` leaves out (added 12-07 after a review; `all`'s
 * figures stay comparable across sessions): both take away what co-use and co-activity
 * link a cell by, the /24s its members share and their days together.
 */
const HARDER: Record<string, Change> = {
  'spread-exits': {
    what: 'every proxy exit in a /24 of its own, as residential pools over many ISPs are (default 4 exits a /24)',
    world: { proxyIpsPerSubnet: 1 },
  },
  'part-time': {
    what: 'campaign accounts active on 35 % of days, as benign ones, the same volume (default every day)',
    world: { campaignActiveDayShare: 0.35 },
  },
};

/** Pools over many /24s, as large campuses, carriers and VPN providers have. */
const WIDE_POOLS: Partial<SimParams> = {
  campusNatIps: [16, 40],
  campusNatIpsPerSubnet: 2,
  carrierNatIps: [40, 120],
  carrierNatIpsPerSubnet: 4,
  vpnExitIps: [20, 60],
  vpnExitIpsPerSubnet: 3,
};

const LOOKALIKES: Record<string, Change> = {
  'wide-pools': {
    what: 'campus NATs over 8–20 /24s, carriers over 10–30, VPN exits over 7–20 (default 1, 1–3, 1)',
    world: WIDE_POOLS,
  },
  'framework-on-carrier': {
    what: 'wide pools, and half the framework developers send through a carrier pool',
    world: { ...WIDE_POOLS, frameworkDevsOnCarrierShare: 0.5 },
  },
  'course-heavy': {
    what: 'wide pools, 60 % of a campus in its class burst, 60 % of their requests on the course prompt (default 40 %, 20 %)',
    world: { ...WIDE_POOLS, campusBurstShare: 0.6, courseTemplateShare: 0.6 },
  },
};

/**
 * The benign side of `spread-exits`: pools with one address a /24, as a carrier's or a
 * residential ISP's can be, so that a pool member's /24s each carry a small share of its
 * traffic, as a spread ring's do. Left out of `lookalikes` (its figures stay comparable).
 */
const SPREAD_LOOKALIKES: Record<string, Change> = {
  'spread-pools': {
    what: 'framework-on-carrier and course-heavy with every pool one address a /24: campus NATs over 16–40 /24s, carriers over 40–120, VPN exits over 20–60',
    world: {
      ...LOOKALIKES['framework-on-carrier']?.world,
      ...LOOKALIKES['course-heavy']?.world,
      campusNatIpsPerSubnet: 1,
      carrierNatIpsPerSubnet: 1,
      vpnExitIpsPerSubnet: 1,
    },
  },
};

/**
 * Rings posing as companies: the benign signals a ring can fake (an org and a corporate
 * domain it declares, sign-ups over months, office hours), each alone and all at once.
 */
const POSING: Record<string, Change> = {
  'claim-org': {
    what: 'every sub-group declares an org and a corporate email domain of its own',
    world: { campaignOrgShare: 1 },
  },
  'spread-signup': {
    what: 'a sub-group signs up over up to 60 days (ending a day before the window) instead of 6 h',
    world: { campaignSignupSpreadDays: 60 },
  },
  'office-hours': {
    what: 'waves only in a 9-hour weekday office window (a tenth at weekends)',
    world: { campaignOfficeHours: true },
  },
};

/**
 * The benign world a complete pose resembles: half the companies run an internal coding
 * agent at 10× a colleague's volume on 80 % of their staff's requests, and switch it to
 * the new model within 24 h of the release; in office hours, or left running, or leaving
 * through a security gateway's pool of /24s (what the claims discount's network part
 * reads as a proxy pool; SIGNALS.md).
 */
const AGENT_COMPANIES: Record<string, Change> = {
  'agent-company': {
    what: 'half the companies run an internal coding agent heavily and switch its model within 24 h',
    world: { companyAgentShare: 0.5 },
  },
  'agent-company-flat': {
    what: 'the same, the agent left running through the night (the heavy users’ hours)',
    world: { companyAgentShare: 0.5, companyAgentHours: 'flat' },
  },
  'agent-company-clock': {
    what: 'the same, the agent running evenly around the clock',
    world: { companyAgentShare: 0.5, companyAgentHours: 'clock' },
  },
  'agent-company-egress': {
    what: 'the same in office hours, every company leaving through a security gateway’s pool of 20 /24s',
    world: { companyAgentShare: 0.5, companyEgressSubnets: 20 },
  },
  'agent-company-egress-4': {
    what: 'the same over a pool of 4 /24s',
    world: { companyAgentShare: 0.5, companyEgressSubnets: 4 },
  },
  'agent-company-egress-8': {
    what: 'the same over a pool of 8 /24s',
    world: { companyAgentShare: 0.5, companyEgressSubnets: 8 },
  },
};

/**
 * Benign stressors: benign groups given habits that only rings have in the default
 * world (an independent review's probe, 12-02): the company card without a corporate
 * domain or org, one card for a whole event, and a fast move to a new model.
 */
const BENIGN_STRESS: Record<string, Change> = {
  'webmail-teams': {
    what: 'company and startup staff on personal webmail with no org (the team card, office and template stay)',
    world: { teamWebmailShare: 1 },
  },
  'sponsored-hackathon': {
    what: 'a sponsor pays for every hackathon participant: one card per event',
    world: { sponsoredHackathonShare: 1 },
  },
  'fast-adopters': {
    what: 'companies, startups, framework developers, hackathons and heavy users move 50–90 % of their traffic to the new model 0–6 h after its release',
    world: { fastAdopterShare: 1 },
  },
  'shared-devices': {
    what: "campus students sign up on their campus's 8 lab machines, plain individuals in households of 2–4 on one device (every benign account that has a device)",
    world: { sharedDeviceShare: 1 },
  },
};

/** The simulator overrides for a change. */
function params(c: Change): Partial<SimParams> {
  const out: Partial<SimParams> = { ...c.world };
  if (c.campaign) {
    out.campaigns = Object.fromEntries(
      Object.entries(DEFAULTS.campaigns).map(([k, v]) => [k, { ...v, ...c.campaign }]),
    ) as SimParams['campaigns'];
  }
  return out;
}

function variants(names: string[] | undefined): Variant[] {
  const all: Variant[] = [{ name: 'baseline', what: 'the defaults' }];
  for (const [name, c] of Object.entries(EVASIONS)) all.push({ name, ...c });
  const merged = (name: string, what: string, changes: Change[]): Variant => ({
    name,
    what,
    campaign: Object.assign({}, ...changes.map((c) => c.campaign ?? {})) as Partial<CampaignParams>,
    world: Object.assign({}, ...changes.map((c) => c.world ?? {})) as Partial<SimParams>,
  });
  all.push(merged('all', 'every evasion above at once', Object.values(EVASIONS)));
  // Review, 12-06: three changes, each caught alone at 0.99–1.00, that leave nothing but
  // proxies and camouflage to link a ring's cells.
  const some = (...names: string[]) => names.map((n) => EVASIONS[n] as Change);
  all.push(
    merged(
      'card+device+paraphrase',
      'own-card, own-device and paraphrase at once',
      some('own-card', 'own-device', 'paraphrase'),
    ),
  );
  // Each also where co-use and co-activity are all that is left to link a ring: spread
  // exits matter once a cell's pool is wide (60–120 exits over 15–30 /24s, or over 60–120).
  const cdp = some('own-card', 'own-device', 'paraphrase');
  const wide = some('wide-proxies');
  all.push(
    merged('card+device+paraphrase+wide-proxies', 'card+device+paraphrase and wide-proxies', [
      ...cdp,
      ...wide,
    ]),
  );
  for (const [name, c] of Object.entries(HARDER)) {
    all.push({ name, ...c });
    all.push(
      merged(`card+device+paraphrase+${name}`, `card+device+paraphrase and ${name}`, [...cdp, c]),
    );
  }
  all.push(
    merged(
      'card+device+paraphrase+wide-proxies+spread-exits',
      'card+device+paraphrase, wide-proxies and spread-exits',
      [...cdp, ...wide, HARDER['spread-exits'] as Change],
    ),
  );
  for (const [name, c] of Object.entries(LOOKALIKES)) all.push({ name, ...c });
  all.push(merged('lookalikes', 'every look-alike above at once', Object.values(LOOKALIKES)));
  for (const [name, c] of Object.entries(SPREAD_LOOKALIKES)) all.push({ name, ...c });
  all.push(
    merged(
      'spread-rings-and-pools',
      'card+device+paraphrase+wide-proxies+spread-exits in the spread-pools world',
      [
        ...cdp,
        ...wide,
        HARDER['spread-exits'] as Change,
        SPREAD_LOOKALIKES['spread-pools'] as Change,
      ],
    ),
  );
  for (const [name, c] of Object.entries(POSING)) all.push({ name, ...c });
  all.push(merged('pose-as-company', 'every posing change above at once', Object.values(POSING)));
  for (const [name, c] of Object.entries(AGENT_COMPANIES)) all.push({ name, ...c });
  for (const [name, c] of Object.entries(BENIGN_STRESS)) all.push({ name, ...c });
  all.push(
    merged('benign-stress', 'every benign stressor above at once', Object.values(BENIGN_STRESS)),
  );
  all.push(
    merged('all+lookalikes', 'every evasion and every look-alike at once', [
      ...Object.values(EVASIONS),
      ...Object.values(LOOKALIKES),
    ]),
  );
  if (!names) return all;
  return names.map((n) => {
    const v = all.find((x) => x.name === n);
    if (!v) throw new Error(`unknown variant "${n}"; known: ${all.map((x) => x.name).join(', ')}`);
    return v;
  });
}

const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;

/**
 * Groups that share no card (a campus shares its .edu domain): whatever clusters them is
 * network, prompt or domain evidence.
 */
const LOOKALIKE_GROUPS = ['campus_nat', 'carrier_nat', 'vpn', 'framework_devs', 'signup_burst'];

/** Of the groups above, the accounts in any cluster (flagged or not), per group when any. */
function clustered(e: Evaluation): string {
  const groups = e.groups.filter((g) => LOOKALIKE_GROUPS.includes(g.group.replace('benign:', '')));
  const total = groups.reduce((n, g) => n + g.inClusters, 0);
  const all = groups.reduce((n, g) => n + g.accounts, 0);
  const parts = groups
    .filter((g) => g.inClusters > 0)
    .map((g) => `${g.group.replace('benign:', '')} ${g.inClusters}`);
  return `${total} of ${all}${parts.length > 0 ? ` (${parts.join(', ')})` : ''}`;
}

/** The margin under the threshold: the highest risk of a cluster with no campaign member. */
function benignMaxRisk(r: InMemoryResult): number {
  const ids = r.input.accounts.map((a) => a.id);
  let max = 0;
  for (const c of r.clusters) {
    const campaign = c.members.some((m) => r.truth.get(ids[m] as string)?.kind === 'campaign');
    if (!campaign && c.risk > max) max = c.risk;
  }
  return max;
}

function row(v: Variant, seed: number, e: Evaluation): string {
  const rate = (g: string): string => {
    const f = e.groups.find((x) => x.group === g);
    return f ? pct(f.rate) : '-';
  };
  const segment = (g: string, digits: number): string => {
    const f = e.segments.find((x) => x.group === g);
    return f ? `${(f.rate * 100).toFixed(digits)} %` : '-';
  };
  return [
    v.name,
    String(seed),
    e.recall.toFixed(3),
    rate('campaign:reasoning'),
    rate('campaign:agentic'),
    rate('campaign:coding'),
    `${(e.benignFlagRate * 100).toFixed(3)} %`,
    segment(SEGMENT_NOT_PLAIN, 3),
    segment(SEGMENT_PROXY_USERS, 2),
    `${e.worstBenignGroup?.group.replace('benign:', '') ?? '-'} ${pct(e.worstBenignGroup?.rate ?? 0)}`,
    clustered(e),
    e.purity.toFixed(3),
    `${e.flaggedClusters} / ${e.clusters}`,
  ].join(' | ');
}

async function main(): Promise<void> {
  const args = benchArgs(__filename, {
    scale: { type: 'string', default: '0.1' },
    seeds: { type: 'string', default: '42' },
    variants: { type: 'string' },
    out: { type: 'string' },
    details: { type: 'boolean', default: false },
    dump: { type: 'string' },
    weights: { type: 'string' },
  });
  const scale = scaleOption(args.scale as string);
  const seeds = seedsOption('seeds', args.seeds as string);
  const chosen = variants(args.variants?.split(','));
  // LINKAGE_WEIGHTS' JSON (e.g. to turn a rule off for an A/B), checked as the service checks it
  const weights = args.weights ? parseWeightOverrides(args.weights) : {};
  const lines = [
    `scale ${scale}; in-memory loop (bench/quality/evasion.ts)${args.weights ? `; weights ${args.weights}` : ''}; ${new Date().toISOString()}`,
    '',
    '| variant | change |',
    '| --- | --- |',
    ...chosen.map((v) => `| ${v.name} | ${v.what} |`),
    '',
    '| variant | seed | recall | reasoning | agentic | coding | benign flag rate | benign but plain individuals | proxy users | worst benign group | look-alikes in clusters | purity | flagged / clusters | top benign-only risk |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  console.log(lines.join('\n'));
  const details: string[] = [];
  for (const v of chosen) {
    for (const seed of seeds) {
      // runInMemory simulates again when the overrides or the simulator's sources changed.
      const dir = path.resolve(`bench/out/evasion/${v.name}-${scale}-${seed}`);
      mkdirSync(dir, { recursive: true });
      const r = await runInMemory(dir, scale, seed, params(v), weights);
      const line = `| ${row(v, seed, r.evaluation)} | ${benignMaxRisk(r).toFixed(3)} |`;
      lines.push(line);
      console.log(`${line}   (${r.times})`);
      if (args.details)
        details.push(`### ${v.name}, seed ${seed}\n\n${formatEvaluation(r.evaluation)}`);
      if (args.dump) {
        mkdirSync(args.dump, { recursive: true });
        dumpClusters(r, path.join(args.dump, `${v.name}-${scale}-${seed}.json`));
      }
    }
  }
  if (details.length > 0) console.log(`\n${details.join('\n\n')}`);
  if (args.out) writeFileSync(args.out, [...lines, '', ...details].join('\n') + '\n');
}

runBench(main);
