/**
 * Builds the simulated population: three campaigns run as sub-groups, and the benign
 * populations with their hard cases (companies, startups, NATs, VPNs, framework users,
 * hackathons, heavy users). Each account carries everything the day-by-day generator
 * needs: sign-up, identifiers, where its requests come from, what they send, and when.
 */
import { BenignGroup, CampaignName, EffectiveParams, Range } from './params';
import { Identity } from './identity';
import { PromptPool, genericPool, paraphrasePool, templatePool } from './prompts';
import { Rng, cumulative } from './rng';

const DAY = 86_400_000;
const HOUR = 3_600_000;
/** Length of a posing ring's office window, in hours. */
const POSING_OFFICE_HOURS = 9;

/** The UTC hour (0–23, fractional for half-hour zones) of local `hour` in UTC offset `tz`. */
function utcHourOf(hour: number, tz: string): number {
  return (((hour - Number(tz)) % 24) + 24) % 24;
}

/** Labels and their cumulative weights. */
export interface Weighted<T> {
  items: T[];
  cum: Float64Array;
}

function weighted<T>(pairs: [T, number][]): Weighted<T> {
  const kept = pairs.filter(([, w]) => w > 0);
  return { items: kept.map(([v]) => v), cum: cumulative(kept.map(([, w]) => w)) };
}

function fromRecord(r: Record<string, number>): Weighted<string> {
  return weighted(Object.entries(r));
}

/** Where one share of an account's requests gets its prompt and capability label. */
export interface RequestMix {
  /** null = a one-off prompt (fresh fingerprint). */
  pool: PromptPool | null;
  /** Popularity over the pool (null = uniform). */
  popularity: Float64Array | null;
  capabilities: Weighted<string>;
}

/** A campaign sub-group: its synchronised work waves and pivot time. */
export interface Subgroup {
  name: string;
  /** Start times (ms) of today's work waves; refilled every day. */
  waves: number[];
  wavesPerDay: Range;
  /** Posing as a company: waves only in this daily window (UTC; it may wrap midnight). */
  office?: { opensUtcHour: number; hours: number };
}

export type Adoption = 'ordinary' | 'heavy' | 'pivot';

export interface Account {
  id: string;
  kind: 'campaign' | 'benign';
  group: string;
  subgroup: string;
  signupMs: number;
  signupIp: string;
  emailDomain: string;
  org: string | undefined;
  device: string | undefined;
  payment: string;
  secondPayment: { pm: string; atMs: number } | undefined;
  /** First and one-past-last active day index. */
  fromDay: number;
  toDay: number;
  /** Volume multiplier before calibration; expected requests per unit day factor after. */
  rate: number;
  /** Chance to be active on a day (requests then scale by 1/share). */
  activeShare: number;
  /** Cumulative weights over the 24 UTC hours (benign); null for campaign waves. */
  hours: Float64Array | null;
  /** Relative activity on Saturday and Sunday (UTC). */
  weekend: number;
  /** Hackathon: [startMs, endMs) when venue IPs are used and activity is boosted. */
  event: { fromMs: number; toMs: number; ips: string[]; boost: number } | undefined;
  ips: Weighted<string[]>;
  mixes: Weighted<RequestMix>;
  adoption: Adoption;
  /** Pivoting accounts (adoption 'pivot'): from this time `pivotShare` of requests use the new model. */
  pivotAtMs: number;
  pivotShare: number;
  /**
   * Fast adopters (stressor): from `atMs`, `share` of requests use the new model; drawn
   * in generate.ts from a stream of its own, so the other events stay as without them.
   */
  fastAdoption?: { atMs: number; share: number };
  /** Agent companies: volume multiplier applied after calibration. */
  agentVolume?: number;
  sub: Subgroup | undefined;
}

export interface Population {
  accounts: Account[];
  subgroups: Subgroup[];
  pools: PromptPool[];
  startMs: number;
  releaseMs: number;
  /** Expected requests on each day of the window, from the calibrated rates. */
  expectedRequests: Float64Array;
}

export function buildPopulation(p: EffectiveParams): Population {
  const rng = Rng.derive(p.seed, 'population');
  const ident = new Identity(Rng.derive(p.seed, 'identity'));
  const prng = Rng.derive(p.seed, 'prompts');
  const startMs = Date.parse(`${p.startDate}T00:00:00Z`);
  const endMs = startMs + p.days * DAY;
  const releaseMs = startMs + p.releaseDay * DAY + p.releaseHourUtc * HOUR;
  const accounts: Account[] = [];
  const subgroups: Subgroup[] = [];
  const pools: PromptPool[] = [];
  const span = (r: Range) => rng.range(r[0], r[1]);
  const benignCaps = fromRecord(p.benignCapabilities);
  const tzs = fromRecord(p.timeZones);

  const template = (
    name: string,
    theme: string,
    variants: number,
    near = false,
    paraphrase = false,
  ): PromptPool => {
    let pool = templatePool(prng, {
      name,
      theme,
      words: prng.range(p.systemWords[0], p.systemWords[1]),
      variants,
      maxFromReference: near ? p.templateMaxDistance : undefined,
    });
    // Paraphrased from a stream of its own per template, so every other pool (and the
    // rest of the world) stays as without it; the near-duplicate pool is still drawn.
    if (paraphrase && p.campaignParaphraseShare > 0) {
      pool = paraphrasePool(Rng.derive(p.seed, `paraphrase:${name}`), pool, {
        theme,
        share: p.campaignParaphraseShare,
        apart: p.campaignParaphraseApart,
        variants,
      });
    }
    pools.push(pool);
    return pool;
  };
  const generic = genericPool(prng, p.genericPoolSize);
  const genericPopularity = cumulative(
    generic.fingerprints.map((_, i) => 1 / Math.pow(i + 1, p.genericZipf)),
  );
  const frameworks = [
    template('framework-1', 'framework', p.variantsPerTemplate, true),
    template('framework-2', 'framework', p.variantsPerTemplate, true),
  ];
  const mixGeneric = (caps = benignCaps): RequestMix => ({
    pool: generic,
    popularity: genericPopularity,
    capabilities: caps,
  });
  const mixOneOff = (caps = benignCaps): RequestMix => ({
    pool: null,
    popularity: null,
    capabilities: caps,
  });
  const mixPool = (pool: PromptPool, caps = benignCaps): RequestMix => ({
    pool,
    popularity: null,
    capabilities: caps,
  });
  /** Ordinary prompt behaviour; `special` takes its share off the top. */
  const ordinaryMixes = (special: [RequestMix, number][], caps = benignCaps) => {
    const rest = 1 - special.reduce((s, [, w]) => s + w, 0);
    const fw = p.frameworkBackgroundShare * rest;
    const gen = p.genericShare * rest;
    return weighted<RequestMix>([
      ...special,
      [mixPool(rng.pick(frameworks), caps), fw],
      [mixGeneric(caps), gen],
      [mixOneOff(caps), rest - fw - gen],
    ]);
  };

  // Sign-up times: growth over the window, pre-existing accounts before it.
  const growthCum = cumulative(
    Array.from({ length: p.days }, (_, d) => 1 + ((p.signupGrowth - 1) * d) / p.days),
  );
  const benignSignup = (): number => {
    if (rng.chance(p.preexistingShare)) return startMs - rng.next() * p.preWindowDays * DAY;
    return startMs + rng.weighted(growthCum) * DAY + rng.next() * DAY;
  };
  const hourProfile = new Map<string, Float64Array>();
  const hoursFor = (tz: string, kind: 'diurnal' | 'office' | 'flat'): Float64Array => {
    const key = `${tz}/${kind}`;
    let cum = hourProfile.get(key);
    if (!cum) {
      const offset = Number(tz);
      const w = Array.from({ length: 24 }, (_, utc) => {
        const local = (((utc + offset) % 24) + 24) % 24;
        if (kind === 'flat') return 0.6 + 0.4 * Math.cos(((local - 15) / 24) * 2 * Math.PI);
        if (kind === 'office') return local >= 9 && local < 18 ? (local === 12 ? 0.6 : 1) : 0.03;
        // diurnal: low at night, peaks mid-morning and evening
        if (local < 7) return 0.05;
        return 0.5 + 0.5 * Math.sin(((local - 7) / 17) * Math.PI) + (local >= 19 ? 0.3 : 0);
      });
      cum = cumulative(w);
      hourProfile.set(key, cum);
    }
    return cum;
  };

  const base = (
    kind: 'campaign' | 'benign',
    group: string,
    subgroup: string,
    signupMs: number,
  ): Account => ({
    id: ident.accountId(),
    kind,
    group: `${kind}:${group}`,
    subgroup,
    signupMs,
    signupIp: '',
    emailDomain: ident.webmail(),
    org: undefined,
    device: rng.chance(p.deviceShare) ? ident.device() : undefined,
    payment: '',
    secondPayment: undefined,
    fromDay: Math.max(0, Math.floor((signupMs - startMs) / DAY)),
    toDay: p.days,
    rate: rng.lognormalMean1(kind === 'campaign' ? p.campaignVolumeSigma : p.benignVolumeSigma),
    activeShare: kind === 'campaign' ? p.campaignActiveDayShare : p.benignActiveDayShare,
    hours: null,
    weekend: 1,
    event: undefined,
    ips: weighted<string[]>([]),
    mixes: weighted<RequestMix>([]),
    adoption: 'ordinary',
    pivotAtMs: Number.POSITIVE_INFINITY,
    pivotShare: 0,
    sub: undefined,
  });
  const maybeSecondPayment = (a: Account) => {
    if (rng.chance(p.secondPaymentShare)) {
      // after the sign-up's second: one in the same second could be ordered before it
      const from = Math.max(firstRequestMs(a), startMs);
      if (from < endMs)
        a.secondPayment = {
          pm: ident.paymentMethod(),
          atMs: Math.floor((from + rng.next() * (endMs - from)) / 1000) * 1000,
        };
    }
  };
  const sizesSummingTo = (total: number, units: number, r: Range): number[] => {
    const raw = Array.from({ length: units }, () => rng.uniform(r[0], r[1]));
    const sum = raw.reduce((s, x) => s + x, 0);
    const sizes = raw.map((x) => Math.max(1, Math.round((x / sum) * total)));
    let diff = total - sizes.reduce((s, x) => s + x, 0);
    for (let i = 0; diff !== 0; i = (i + 1) % units) {
      const cur = sizes[i] as number;
      if (diff > 0) {
        sizes[i] = cur + 1;
        diff--;
      } else if (cur > 1) {
        sizes[i] = cur - 1;
        diff++;
      }
    }
    return sizes;
  };

  // ---- Campaigns -------------------------------------------------------------------
  const proxySubnets = Math.max(1, Math.ceil(p.proxyIps / p.proxyIpsPerSubnet));
  const proxies: string[] = [];
  for (let s = 0; s < proxySubnets && proxies.length < p.proxyIps; s++) {
    // (no draw at all with proxyIpv6Share 0: the default world stays as it was)
    if (p.proxyIpv6Share > 0 && rng.chance(p.proxyIpv6Share))
      proxies.push(...ident.hostsIn48(ident.subnet48(), p.proxyIpsPerSubnet));
    else proxies.push(...ident.hostsIn(ident.subnet24(), p.proxyIpsPerSubnet));
  }
  /** Proxy IPs some sub-group rotates over, in first-use order. */
  const campaignIps = new Set<string>();
  const camouflage = (): RequestMix[] => [
    mixPool(rng.pick(frameworks)),
    mixGeneric(),
    mixGeneric(),
    mixOneOff(),
  ];
  // Shares of camouflage per mix above; the same draws either way, so the default world
  // is unchanged by the option.
  const fwShare = p.frameworkBackgroundShare;
  const genShare = p.genericShare;
  const camoWeights = p.campaignOrdinaryCamouflage
    ? [fwShare, genShare / 2, genShare / 2, 1 - fwShare - genShare]
    : [0.25, 0.25, 0.25, 0.25];

  for (const [name, c] of Object.entries(p.campaigns) as [
    CampaignName,
    EffectiveParams['campaigns'][CampaignName],
  ][]) {
    const caps = fromRecord(c.capabilities);
    const templates = Array.from({ length: c.templates }, (_, i) =>
      template(`${name}-${i + 1}`, name, p.variantsPerTemplate, true, true),
    );
    let remaining = c.accounts;
    let prevPayments: string[] = [];
    for (let g = 0; remaining > 0; g++) {
      let size = Math.min(remaining, span(c.subgroupSize));
      if (remaining - size < c.subgroupSize[0]) size = remaining;
      remaining -= size;
      const subName = `${name}-sg${String(g + 1).padStart(3, '0')}`;
      const sub: Subgroup = { name: subName, waves: [], wavesPerDay: p.wavesPerDay };
      subgroups.push(sub);
      const burstMs =
        startMs +
        span(p.campaignSignupDays) * DAY +
        rng.next() * (DAY - p.campaignBurstHours * HOUR);
      const lifetime = span(p.campaignLifetimeDays);
      const pivotAtMs =
        c.pivotShare > 0
          ? releaseMs + rng.uniform(c.pivotLagHours[0], c.pivotLagHours[1]) * HOUR
          : Infinity;
      // distinct IPs: picked with replacement, a third of the sub-groups had fewer than drawn
      const ips = rng.sample(proxies, span(c.proxiesPerSubgroup));
      for (const ip of ips) campaignIps.add(ip);
      const ipChoices = weighted(ips.map((ip): [string[], number] => [[ip], 1]));
      const devices = Array.from({ length: span(p.campaignDevicesPerSubgroup) }, () =>
        ident.device(),
      );
      const ownTemplates = rng
        .shuffle([...templates])
        .slice(0, Math.min(templates.length, rng.range(1, 3)));
      const camo = rng.uniform(c.camouflage[0], c.camouflage[1]);
      const camoMixes = camouflage();
      // Templates weigh 3 : 2 : 1 in the order drawn, together 1 − camo however many.
      const templateWeight = ownTemplates.reduce((sum, _, i) => sum + (3 - i), 0);
      const mixes = weighted<RequestMix>([
        ...ownTemplates.map((t, i): [RequestMix, number] => [
          mixPool(t, caps),
          ((1 - camo) * (3 - i)) / templateWeight,
        ]),
        ...camoMixes.map((m, i): [RequestMix, number] => [m, camo * camoWeights[i]!]),
      ]);
      // Posing as a company draws nothing unless asked, so the defaults' events stay the same.
      const claim =
        p.campaignOrgShare > 0 && rng.chance(p.campaignOrgShare)
          ? { org: ident.org(), domain: ident.domain(rng.pick(['com', 'io', 'net'])) }
          : undefined;
      if (p.campaignOfficeHours) {
        const tz = tzs.items[rng.weighted(tzs.cum)] as string;
        sub.office = { opensUtcHour: utcHourOf(9, tz), hours: POSING_OFFICE_HOURS };
      }
      // Spread sign-ups stop a day before the window ends (so at once for a late burst).
      const spreadMs = Math.max(
        0,
        Math.min(p.campaignSignupSpreadDays * DAY, endMs - DAY - burstMs),
      );
      const payments: string[] = [];
      let left = 0;
      for (let i = 0; i < size; i++) {
        const signupMs =
          p.campaignSignupSpreadDays > 0
            ? burstMs + rng.next() * spreadMs
            : burstMs + rng.next() * p.campaignBurstHours * HOUR;
        const a = base('campaign', name, subName, signupMs);
        a.toDay = Math.min(p.days, a.fromDay + lifetime);
        if (claim) {
          a.emailDomain = claim.domain;
          a.org = claim.org;
        }
        if (p.campaignOfficeHours) a.weekend = 0.1;
        if (left <= 0) {
          payments.push(ident.paymentMethod());
          left = span(c.accountsPerPaymentMethod);
        }
        left--;
        // Loose links between sub-groups: a few accounts reuse a neighbour's payment method.
        a.payment =
          prevPayments.length > 0 && rng.chance(p.crossCellCardShare)
            ? rng.pick(prevPayments)
            : (payments[payments.length - 1] as string);
        // Own devices: fresh ones, as a pool drawn with replacement would still share some.
        if (!rng.chance(p.deviceShare)) a.device = undefined;
        else a.device = p.campaignOwnDevices ? ident.device() : rng.pick(devices);
        a.signupIp = rng.pick(ips);
        a.ips = ipChoices;
        a.mixes = mixes;
        a.adoption = c.pivotShare > 0 ? 'pivot' : 'ordinary';
        a.pivotShare = c.pivotShare;
        a.pivotAtMs = pivotAtMs;
        a.sub = sub;
        maybeSecondPayment(a);
        accounts.push(a);
      }
      prevPayments = payments;
    }
  }

  // ---- Benign ----------------------------------------------------------------------
  const b = p.benign;
  const ordinary = (group: BenignGroup, subgroup: string, signupMs = benignSignup()): Account => {
    const a = base('benign', group, subgroup, signupMs);
    a.payment = ident.paymentMethod();
    a.hours = hoursFor(tzs.items[rng.weighted(tzs.cum)] as string, 'diurnal');
    maybeSecondPayment(a);
    return a;
  };
  /** `n` addresses, `perSubnet` to a /24: `first`, then fresh /24s as needed. */
  const spread = (first: string, n: number, perSubnet: number): string[] => {
    const out = ident.hostsIn(first, Math.min(perSubnet, n));
    while (out.length < n)
      out.push(...ident.hostsIn(ident.subnet24(), Math.min(perSubnet, n - out.length)));
    return out;
  };

  const home = (a: Account, extra: [string[], number][] = []) => {
    const ip = ident.residentialIp();
    a.signupIp = ip;
    const mobile = rng.chance(0.3) ? [[[ident.residentialIp()], 0.2] as [string[], number]] : [];
    a.ips = weighted<string[]>([[[ip], 1], ...mobile, ...extra]);
  };

  // Plain individuals; the first ones also use the campaigns' proxy IPs (proxy users).
  // The IPs are dealt from the ones campaigns use, so each of those carries ordinary
  // traffic; there is at least one proxy user per such IP, or, with fewer individuals
  // than such IPs (tiny scales), proxy users take more than 3 so every IP is dealt.
  const proxyIps = campaignIps.size > 0 ? [...campaignIps] : proxies;
  const proxyDeck = deck(rng, proxyIps);
  const proxyUsers = Math.min(
    b.individual.accounts,
    Math.max(p.proxyBenignUsers, campaignIps.size),
  );
  let dealt = 0;
  for (let i = 0; i < b.individual.accounts; i++) {
    const proxyUser = i < proxyUsers;
    const a = ordinary('individual', proxyUser ? 'proxy_user' : 'plain');
    home(a);
    if (proxyUser) {
      // The deck deals every IP once before any twice: what the first pass has left, over
      // the proxy users left (at most 1 while there are as many users as IPs).
      const due = Math.ceil(Math.max(0, proxyIps.length - dealt) / (proxyUsers - i));
      const n = Math.max(rng.range(1, 3), due);
      dealt += n;
      const mine = Array.from({ length: n }, () => proxyDeck());
      addShare(a, mine, p.proxyBenignTrafficShare);
      a.rate *= p.proxyBenignVolume;
    }
    a.mixes = ordinaryMixes([]);
    accounts.push(a);
  }

  // Companies.
  const agentCaps = fromRecord({ coding: 0.8, tool_use: 0.15, reasoning: 0.05 });
  sizesSummingTo(b.company.accounts, b.company.units, p.companySize).forEach((size, u) => {
    const name = `company-${u + 1}`;
    const domain = ident.domain(rng.pick(['com', 'com', 'co', 'net', 'de', 'io']));
    const org = ident.org();
    const cards = Array.from({ length: size > 40 ? 2 : 1 }, () => ident.paymentMethod());
    // The egress pool only when asked, so the defaults' draws stay the same.
    const office =
      p.companyEgressSubnets > 1
        ? spread(ident.subnet24(), 2 * p.companyEgressSubnets, 2)
        : ident.hostsIn(ident.subnet24(), span(p.officeIps));
    const tz = tzs.items[rng.weighted(tzs.cum)] as string;
    const internal = template(`${name}-agent`, 'company', p.variantsPerSmallTemplate);
    const firstMs = startMs - rng.next() * p.preWindowDays * DAY;
    // Drawn only when asked, so the defaults' events stay the same.
    const agentAtMs =
      p.companyAgentShare > 0 && rng.chance(p.companyAgentShare)
        ? releaseMs + rng.next() * DAY
        : undefined;
    for (let i = 0; i < size; i++) {
      const a = base('benign', 'company', name, firstMs + rng.next() * (endMs - DAY - firstMs));
      a.emailDomain = domain;
      a.org = org;
      a.payment = rng.pick(cards);
      const hours = agentAtMs === undefined ? 'office' : p.companyAgentHours;
      a.hours = hours === 'clock' ? null : hoursFor(tz, hours);
      a.weekend = hours === 'office' ? 0.1 : 1;
      const homeIp = ident.residentialIp();
      a.signupIp = rng.chance(0.7) ? rng.pick(office) : homeIp;
      a.ips = weighted<string[]>([
        [office, 1 - p.companyHomeShare],
        [[homeIp], p.companyHomeShare],
      ]);
      if (agentAtMs === undefined) {
        a.mixes = ordinaryMixes([[mixPool(internal), p.companyTemplateShare]]);
      } else {
        a.mixes = ordinaryMixes([[mixPool(internal, agentCaps), p.companyAgentTemplateShare]]);
        a.adoption = 'pivot';
        a.pivotAtMs = agentAtMs;
        a.pivotShare = p.companyAgentTemplateShare;
        a.agentVolume = p.companyAgentVolume;
      }
      accounts.push(a);
    }
  });

  // Startups.
  const startupCaps = fromRecord({ coding: 0.5, tool_use: 0.2, chat: 0.2, reasoning: 0.1 });
  sizesSummingTo(b.startup.accounts, b.startup.units, [6, 14]).forEach((size, u) => {
    const name = `startup-${u + 1}`;
    const domain = ident.domain(rng.pick(['io', 'ai', 'dev', 'app']));
    const org = rng.chance(0.5) ? ident.org() : undefined;
    const card = ident.paymentMethod();
    const cowork = rng.chance(0.5) ? ident.hostsIn(ident.subnet24(), 1) : [];
    const shared = template(`${name}-agent`, 'coding', p.variantsPerSmallTemplate);
    const foundedMs = startMs + (rng.next() * 1.4 - 1) * p.preWindowDays * DAY;
    for (let i = 0; i < size; i++) {
      // within 30 days of the founding (or of the window's last two days, for a startup
      // founded later) and before the window's last day. Clamped to that day instead, a
      // late startup's staff all signed up in one second.
      const firstMs = Math.min(foundedMs, endMs - 2 * DAY);
      const lastMs = Math.min(firstMs + 30 * DAY, endMs - DAY);
      const a = ordinary('startup', name, firstMs + rng.next() * (lastMs - firstMs));
      a.emailDomain = domain;
      a.org = org;
      a.payment = card;
      home(a, cowork.length > 0 ? [[cowork, 0.6]] : []);
      a.mixes = ordinaryMixes(
        [[mixPool(shared, startupCaps), p.startupTemplateShare]],
        startupCaps,
      );
      accounts.push(a);
    }
  });

  // Campus NATs.
  sizesSummingTo(b.campus_nat.accounts, b.campus_nat.units, [0.5, 1.5]).forEach((size, u) => {
    const name = `campus-${u + 1}`;
    const domain = ident.domain('edu');
    const nat = spread(ident.subnet24(), span(p.campusNatIps), p.campusNatIpsPerSubnet);
    const tz = tzs.items[rng.weighted(tzs.cum)] as string;
    const course = template(`${name}-course`, 'course', p.variantsPerSmallTemplate);
    const burstMs = startMs + rng.range(5, Math.max(5, p.days - 20)) * DAY + 8 * HOUR;
    for (let i = 0; i < size; i++) {
      const inBurst = rng.chance(p.campusBurstShare);
      const a = ordinary(
        'campus_nat',
        name,
        inBurst ? burstMs + rng.next() * 2 * DAY : benignSignup(),
      );
      a.emailDomain = domain;
      a.hours = hoursFor(tz, 'diurnal');
      a.signupIp = rng.pick(nat);
      a.ips = weighted<string[]>([
        [nat, 0.85],
        [[ident.residentialIp()], 0.15],
      ]);
      a.mixes = ordinaryMixes(inBurst ? [[mixPool(course), p.courseTemplateShare]] : []);
      accounts.push(a);
    }
  });

  // Carrier NATs.
  const carrierPools: string[][] = [];
  sizesSummingTo(b.carrier_nat.accounts, b.carrier_nat.units, [0.5, 1.5]).forEach((size, u) => {
    const name = `carrier-${u + 1}`;
    const n = span(p.carrierNatIps);
    const pool = spread(ident.subnet24(), n, p.carrierNatIpsPerSubnet);
    carrierPools.push(pool);
    const tz = tzs.items[rng.weighted(tzs.cum)] as string;
    for (let i = 0; i < size; i++) {
      const a = ordinary('carrier_nat', name);
      a.hours = hoursFor(tz, 'diurnal');
      home(a, [[pool, 3]]);
      a.signupIp = rng.pick(pool);
      a.mixes = ordinaryMixes([]);
      accounts.push(a);
    }
  });

  // VPN exits.
  sizesSummingTo(b.vpn.accounts, b.vpn.units, [0.5, 1.5]).forEach((size, u) => {
    const name = `vpn-${u + 1}`;
    const exits = spread(ident.subnet24(), span(p.vpnExitIps), p.vpnExitIpsPerSubnet);
    for (let i = 0; i < size; i++) {
      const a = ordinary('vpn', name);
      home(a, [[exits, 9]]);
      a.signupIp = rng.pick(exits);
      a.mixes = ordinaryMixes([]);
      accounts.push(a);
    }
  });

  // Framework developers.
  const devCaps = fromRecord({ coding: 0.4, tool_use: 0.3, chat: 0.2, reasoning: 0.1 });
  for (let i = 0; i < b.framework_devs.accounts; i++) {
    const fw = frameworks[i % frameworks.length] as PromptPool;
    const a = ordinary('framework_devs', fw.name);
    // A draw only when the share is set, so the default world stays byte-identical.
    const onCarrier =
      p.frameworkDevsOnCarrierShare > 0 && rng.chance(p.frameworkDevsOnCarrierShare);
    home(a, onCarrier ? [[rng.pick(carrierPools), 3]] : []);
    a.mixes = ordinaryMixes([[mixPool(fw, devCaps), p.frameworkShare]], devCaps);
    accounts.push(a);
  }

  // Hackathons: a sign-up burst at one venue, busy for two days, quieter after.
  sizesSummingTo(b.signup_burst.accounts, b.signup_burst.units, [0.5, 1.5]).forEach((size, u) => {
    const name = `hackathon-${u + 1}`;
    const venue = ident.hostsIn(ident.subnet24(), span(p.venueIps));
    const tz = tzs.items[rng.weighted(tzs.cum)] as string;
    const dayStart = startMs + rng.range(3, Math.max(3, p.days - 10)) * DAY;
    const opensMs = dayStart + utcHourOf(9, tz) * HOUR;
    const fw = rng.pick(frameworks);
    for (let i = 0; i < size; i++) {
      const a = ordinary('signup_burst', name, opensMs + rng.next() * p.hackathonBurstHours * HOUR);
      a.hours = hoursFor(tz, 'flat');
      home(a);
      a.signupIp = rng.pick(venue);
      a.event = { fromMs: a.signupMs, toMs: opensMs + 2 * DAY, ips: venue, boost: 8 };
      a.mixes = ordinaryMixes([[mixPool(fw, devCaps), 0.4]], devCaps);
      accounts.push(a);
    }
  });

  // Heavy individual users.
  const heavyCaps = fromRecord({ coding: 0.5, tool_use: 0.3, data_analysis: 0.2 });
  for (let i = 0; i < b.heavy_user.accounts; i++) {
    const a = ordinary('heavy_user', `heavy-${i + 1}`);
    a.hours = hoursFor(tzs.items[rng.weighted(tzs.cum)] as string, 'flat');
    a.activeShare = 0.95;
    a.adoption = 'heavy';
    a.rate = rng.uniform(0.5, 1.5);
    home(a, rng.chance(0.5) ? [[[ident.residentialIp()], 0.5]] : []);
    const own = template(`heavy-${i + 1}`, 'personal', p.variantsPerSmallTemplate);
    a.mixes = ordinaryMixes([[mixPool(own, heavyCaps), p.heavyTemplateShare]], heavyCaps);
    accounts.push(a);
  }

  stress(accounts, p, ident, releaseMs);
  const expectedRequests = calibrate(accounts, p, startMs);
  for (const a of accounts) if (a.agentVolume) a.rate *= a.agentVolume;
  return { accounts, subgroups, pools, startMs, releaseMs, expectedRequests };
}

/** Deals `items` in a shuffled order, shuffling again each time they run out. */
function deck<T>(rng: Rng, items: readonly T[]): () => T {
  const order = [...items];
  let next = order.length;
  return () => {
    if (next >= order.length) {
      rng.shuffle(order);
      next = 0;
    }
    return order[next++] as T;
  };
}

/** Adds `ips` to an account's addresses so they carry `share` of its requests. */
function addShare(a: Account, ips: string[], share: number): void {
  const { items, cum } = a.ips;
  const total = cum[cum.length - 1] ?? 0;
  const pairs = items.map((item, i): [string[], number] => [
    item,
    (cum[i] as number) - (i > 0 ? (cum[i - 1] as number) : 0),
  ]);
  a.ips = weighted([...pairs, [ips, (total * share) / (1 - share)]]);
}

/**
 * The benign stressors (params.ts; off by default): teams on personal webmail, sponsored
 * hackathons, fast adopters of the new model, shared devices. Drawn last, from their own
 * stream (and the identity stream's end), so the rest of the population is the same with
 * or without them.
 */
function stress(accounts: Account[], p: EffectiveParams, ident: Identity, releaseMs: number): void {
  if (
    p.teamWebmailShare <= 0 &&
    p.sponsoredHackathonShare <= 0 &&
    p.fastAdopterShare <= 0 &&
    p.sharedDeviceShare <= 0
  )
    return;
  const rng = Rng.derive(p.seed, 'stressors');
  const webmailTeams = new Map<string, boolean>();
  const sponsorCards = new Map<string, string | null>();
  const fast = new Set<string>(p.fastAdopterGroups.map((g) => `benign:${g}`));
  const labs = new Map<string, string[]>();
  let household: { device: string; left: number } | undefined;
  for (const a of accounts) {
    if (a.kind !== 'benign') continue;
    if (p.sharedDeviceShare > 0 && a.device !== undefined && rng.chance(p.sharedDeviceShare)) {
      if (a.group === 'benign:campus_nat') {
        let lab = labs.get(a.subgroup);
        if (lab === undefined) {
          lab = Array.from({ length: p.sharedDeviceLabMachines }, () => ident.device());
          labs.set(a.subgroup, lab);
        }
        a.device = rng.pick(lab);
      } else if (a.group === 'benign:individual' && a.subgroup === 'plain') {
        if (household === undefined || household.left === 0)
          household = { device: ident.device(), left: 2 + rng.int(3) };
        a.device = household.device;
        household.left--;
      }
    }
    if (a.group === 'benign:company' || a.group === 'benign:startup') {
      let webmail = webmailTeams.get(a.subgroup);
      if (webmail === undefined) {
        webmail = p.teamWebmailShare > 0 && rng.chance(p.teamWebmailShare);
        webmailTeams.set(a.subgroup, webmail);
      }
      if (webmail) {
        a.emailDomain = ident.webmail();
        a.org = undefined;
      }
    }
    if (a.group === 'benign:signup_burst') {
      let card = sponsorCards.get(a.subgroup);
      if (card === undefined) {
        card =
          p.sponsoredHackathonShare > 0 && rng.chance(p.sponsoredHackathonShare)
            ? ident.paymentMethod()
            : null;
        sponsorCards.set(a.subgroup, card);
      }
      if (card !== null) a.payment = card;
    }
    // Agent companies already switch within a day; they keep their own schedule.
    if (p.fastAdopterShare > 0 && fast.has(a.group) && a.adoption !== 'pivot') {
      if (rng.chance(p.fastAdopterShare)) {
        a.fastAdoption = {
          atMs: releaseMs + rng.uniform(...p.fastAdopterLagHours) * HOUR,
          share: rng.uniform(...p.fastAdopterTraffic),
        };
      }
    }
  }
}

/** Relative activity of an account on a day outside a hackathon (weekends). */
export function weekFactor(a: Account, day: number, startMs: number): number {
  const dow = new Date(startMs + day * DAY).getUTCDay();
  return dow === 0 || dow === 6 ? a.weekend : 1;
}

/** The part of a day inside the account's hackathon, as [fromMs, toMs), or null. */
export function eventSpan(a: Account, day: number, startMs: number): [number, number] | null {
  if (!a.event) return null;
  const dayMs = startMs + day * DAY;
  const from = Math.max(dayMs, a.event.fromMs);
  const to = Math.min(dayMs + DAY, a.event.toMs);
  return to > from ? [from, to] : null;
}

/** An account's first request may come no earlier than the second after its sign-up's. */
export function firstRequestMs(a: Account): number {
  return Math.floor(a.signupMs / 1000) * 1000 + 1000;
}

/**
 * Share of an account's activity on the day that starts at `dayMs` that falls at or after
 * `fromMs`: by its hour profile (uniform within an hour, as requests are drawn), or evenly
 * over the day (waves, round-the-clock accounts). On its sign-up day, what its profile
 * puts before the sign-up is not drawn at all, not squeezed into the hours after it.
 */
export function shareOfDayFrom(a: Account, dayMs: number, fromMs: number): number {
  if (fromMs <= dayMs) return 1;
  if (fromMs >= dayMs + DAY) return 0;
  const h = (fromMs - dayMs) / HOUR;
  if (!a.hours) return 1 - h / 24;
  const i = Math.floor(h);
  const at = (k: number) => (k < 0 ? 0 : ((a.hours as Float64Array)[k] as number));
  const before = at(i - 1) + (at(i) - at(i - 1)) * (h - i);
  return 1 - before / at(23);
}

/**
 * Relative activity of an account on a day: the week's rhythm, and a hackathon's boost
 * over the hours of the day it covers (so a 48 h event boosts 48 h, not every day it
 * touches).
 */
export function dayFactor(a: Account, day: number, startMs: number): number {
  const span = eventSpan(a, day, startMs);
  const covered = span && a.event ? ((span[1] - span[0]) / DAY) * (a.event.boost - 1) : 0;
  return weekFactor(a, day, startMs) * (1 + covered);
}

/**
 * Scale each group's per-account rates so expected requests match the table. Returns the
 * expected requests per day (agent companies' volume included, applied after this).
 */
function calibrate(accounts: Account[], p: EffectiveParams, startMs: number): Float64Array {
  const target = new Map<string, number>();
  for (const [n, c] of Object.entries(p.campaigns)) target.set(`campaign:${n}`, c.requests);
  for (const [n, c] of Object.entries(p.benign)) target.set(`benign:${n}`, c.requests);
  const weight = new Map<string, number>();
  const daily = new Map<string, Float64Array>();
  for (const a of accounts) {
    let perDay = daily.get(a.group);
    if (!perDay) daily.set(a.group, (perDay = new Float64Array(p.days)));
    const volume = a.rate * (a.agentVolume ?? 1);
    let w = 0;
    for (let d = a.fromDay; d < a.toDay; d++) {
      let f = dayFactor(a, d, startMs);
      if (d === a.fromDay) f *= shareOfDayFrom(a, startMs + d * DAY, firstRequestMs(a));
      w += f;
      perDay[d] = (perDay[d] as number) + volume * f;
    }
    weight.set(a.group, (weight.get(a.group) ?? 0) + a.rate * w);
  }
  for (const a of accounts) {
    const w = weight.get(a.group) ?? 0;
    a.rate = w > 0 ? (a.rate * (target.get(a.group) ?? 0)) / w : 0;
  }
  const expected = new Float64Array(p.days);
  for (const [group, perDay] of daily) {
    const w = weight.get(group) ?? 0;
    const k = w > 0 ? (target.get(group) ?? 0) / w : 0;
    perDay.forEach((x, d) => (expected[d] = (expected[d] as number) + x * k));
  }
  return expected;
}
