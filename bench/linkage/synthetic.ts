/**
 * Seeded synthetic population for the linkage bench: N accounts, ~5 account–identifier
 * links each, with the hubs a real provider sees and the rings Coterie must find.
 *
 *   - individuals: webmail (gmail ≈ 35 %: hundreds of thousands on one value),
 *     a home IP in a /27-ish subnet, often a card and a device (families share),
 *     mostly unique prompts, but 20 % send one of 8 popular framework prompts
 *     (near-duplicate variants: template hubs of tens of thousands);
 *   - carrier NATs (15 % of accounts behind 5 IPs/subnets: tens of thousands each)
 *     and two campus subnets;
 *   - companies (8 %): org, company domain, office IP, sometimes a shared card and
 *     internal prompt templates;
 *   - 3 campaigns (2.4 % of accounts, 50/30/20 %): cards shared by ~25 accounts,
 *     devices by ~10, a few prompt templates in near-duplicate variants, webmail or
 *     throwaway domains; proxy cells of 60 accounts over 8 /24s of their own, each
 *     account on 5 of them (an IP in each, ~9 accounts an IP), which ordinary customers
 *     share (1 % of individuals, 4 of a cell's /24s each). With 4 /24s or more these
 *     accounts take part in co-use and co-activity: until 12-07 every account had one IP
 *     and neither stage ever ran here (review).
 * `planted[i]` is the campaign of account i (0..2) or -1.
 */
import { IdentifierTable } from '../../src/linkage/identifier-table';
import { createRng, randomInt, type Rng } from '../../src/linkage/rng';
import type {
  AccountFacts,
  IdentifierKind,
  LinkageGraph,
  LinkageInput,
  Identifier,
} from '../../src/linkage/types';

function hex32(x: number): string {
  return (x >>> 0).toString(16).padStart(8, '0');
}

function randomFingerprint(rng: Rng): [number, number] {
  return [Math.floor(rng() * 2 ** 32), Math.floor(rng() * 2 ** 32)];
}

/** A variant of a template: up to `maxFlips` random bits flipped. */
function variant(rng: Rng, base: [number, number], maxFlips: number): string {
  let [hi, lo] = base;
  const flips = randomInt(rng, maxFlips + 1);
  for (let f = 0; f < flips; f++) {
    const bit = randomInt(rng, 64);
    if (bit < 32) hi = (hi ^ (1 << bit)) >>> 0;
    else lo = (lo ^ (1 << (bit - 32))) >>> 0;
  }
  return hex32(hi) + hex32(lo);
}

/** An account with no facts but its id: build reads only links. */
export function bareAccount(i: number): AccountFacts {
  return {
    id: `acc-${i}`,
    signupAt: null,
    firstSeen: 0,
    lastSeen: 0,
    requests: 1,
    hours: { keys: [], counts: [] },
    emailDomain: null,
    org: null,
    models: [],
    capabilities: [],
  };
}

/** Proxy cells (see above): accounts a cell, its /24s, those an account uses, IPs a /24. */
const CELL_ACCOUNTS = 60;
const CELL_SUBNETS = 8;
const CELL_SUBNETS_USED = 5;
const CUSTOMER_SUBNETS = 4;
const PROXY_HOSTS = 4;

export interface Synthetic {
  input: LinkageInput;
  planted: Int8Array;
}

export function synthesize(n: number, seed = 1): Synthetic {
  const rng = createRng(seed);
  const identifiers: Identifier[] = [];
  const idIndex = new Map<string, number>();
  let linkAccount = new Int32Array(n * 7);
  let linkIdentifier = new Int32Array(n * 7);
  let links = 0;
  const link = (account: number, kind: IdentifierKind, value: string): void => {
    const key = `${kind}|${value}`;
    let id = idIndex.get(key);
    if (id === undefined) {
      id = identifiers.length;
      idIndex.set(key, id);
      // Strings as a driver decodes them: flat, fresh (template literals here make
      // cons strings that every later hash would first have to flatten).
      identifiers.push({ kind, value: Buffer.from(value, 'utf8').toString('utf8') });
    }
    if (links === linkAccount.length) {
      const a = new Int32Array(links * 2);
      a.set(linkAccount);
      linkAccount = a;
      const b = new Int32Array(links * 2);
      b.set(linkIdentifier);
      linkIdentifier = b;
    }
    linkAccount[links] = account;
    linkIdentifier[links] = id;
    links++;
  };
  const ip = (x: number): string => `10.${(x >>> 16) & 255}.${(x >>> 8) & 255}.${x & 255}`;
  const subnetOf = (x: number): string => `10.${(x >>> 16) & 255}.${(x >>> 8) & 255}.0/24`;

  const planted = new Int8Array(n).fill(-1);
  const accounts: AccountFacts[] = [];
  for (let i = 0; i < n; i++) accounts.push(bareAccount(i));

  // Shared pools.
  const popular = Array.from({ length: 8 }, () => randomFingerprint(rng));
  const nats = 5;
  const homeIpSpace = 1 << 23; // home IPs: 10.0.0.0/9-ish, ~32 accounts per /24 at 1M
  const campaignSizes = [0.5, 0.3, 0.2].map((f) => Math.max(30, Math.round(n * 0.024 * f)));
  const cells = campaignSizes.map((size) => Math.ceil(size / CELL_ACCOUNTS));
  // A proxy cell's /24s: 11.x.y.0/24, up to 16,384 a campaign (1.2 M accounts in campaign 0).
  const proxySubnet = (c: number, cell: number, k: number): [string, string] => {
    const g = cell * CELL_SUBNETS + k;
    const prefix = `11.${c * 64 + (g >>> 8)}.${g & 255}`;
    return [prefix, `${prefix}.0/24`];
  };
  /** `count` of the cell's /24s, an IP of `PROXY_HOSTS` in each. */
  const proxyLinks = (a: number, c: number, cell: number, count: number): void => {
    const ks = Array.from({ length: CELL_SUBNETS }, (_, k) => k);
    for (let i = 0; i < count; i++) {
      const j = i + randomInt(rng, CELL_SUBNETS - i);
      [ks[i], ks[j]] = [ks[j] as number, ks[i] as number];
      const [prefix, cidr] = proxySubnet(c, cell, ks[i] as number);
      link(a, 'ip', `${prefix}.${randomInt(rng, PROXY_HOSTS)}`);
      link(a, 'subnet', cidr);
    }
  };

  let next = 0;
  // Campaigns first (accounts 0.. in three blocks); order does not matter to the stages.
  campaignSizes.forEach((size, c) => {
    const templates = Array.from({ length: 3 + c }, () => randomFingerprint(rng));
    const throwaway = Array.from({ length: 5 }, (_, k) => `mail${c}-${k}.xyz`);
    for (let k = 0; k < size && next < n; k++, next++) {
      const a = next;
      planted[a] = c;
      link(a, 'payment', `camp${c}-card-${randomInt(rng, Math.ceil(size / 25))}`);
      if (rng() < 0.5) link(a, 'device', `camp${c}-dev-${randomInt(rng, Math.ceil(size / 20))}`);
      proxyLinks(a, c, Math.floor(k / CELL_ACCOUNTS), CELL_SUBNETS_USED);
      link(
        a,
        'prompt',
        variant(rng, templates[randomInt(rng, templates.length)] as [number, number], 3),
      );
      if (rng() < 0.5)
        link(
          a,
          'prompt',
          variant(rng, templates[randomInt(rng, templates.length)] as [number, number], 3),
        );
      link(a, 'email_domain', rng() < 0.7 ? 'gmail.com' : (throwaway[randomInt(rng, 5)] as string));
    }
  });

  // Companies.
  let company = 0;
  const companyEnd = Math.min(n, next + Math.round(n * 0.08));
  while (next < companyEnd) {
    const size = Math.min(companyEnd - next, 3 + Math.floor(-Math.log(1 - rng()) * 12));
    const office = homeIpSpace + 1_000_000 + company;
    const sharedCard = rng() < 0.3;
    const internal = rng() < 0.5 ? randomFingerprint(rng) : null;
    for (let k = 0; k < size; k++, next++) {
      const a = next;
      link(a, 'org', `org-${company}`);
      link(a, 'email_domain', `company${company}.com`);
      link(a, 'ip', ip(office));
      link(a, 'subnet', subnetOf(office));
      if (sharedCard) link(a, 'payment', `corp-card-${company}`);
      link(
        a,
        'prompt',
        internal ? variant(rng, internal, 2) : hex32(rng() * 2 ** 32) + hex32(rng() * 2 ** 32),
      );
    }
    company++;
  }

  // Individuals.
  const webmail: [string, number][] = [
    ['gmail.com', 0.35],
    ['outlook.com', 0.12],
    ['yahoo.com', 0.08],
    ['proton.me', 0.03],
  ];
  for (; next < n; next++) {
    const a = next;
    // email
    let u = rng();
    let domain: string | null = null;
    for (const [d, p] of webmail) {
      if (u < p) {
        domain = d;
        break;
      }
      u -= p;
    }
    link(
      a,
      'email_domain',
      domain ?? `personal${randomInt(rng, Math.max(10, Math.round(n / 20)))}.net`,
    );
    // network: carrier NAT, campus, a campaign's proxy (ordinary VPN customers), or home
    const r = rng();
    if (r < 0.15) {
      const nat = randomInt(rng, nats);
      link(a, 'ip', `100.64.${nat}.1`);
      link(a, 'subnet', `100.64.${nat}.0/24`);
    } else if (r < 0.17) {
      const campus = randomInt(rng, 2);
      link(a, 'ip', `192.168.${campus}.${randomInt(rng, 200)}`);
      link(a, 'subnet', `192.168.${campus}.0/24`);
    } else if (r < 0.18) {
      const c = randomInt(rng, 3);
      proxyLinks(a, c, randomInt(rng, cells[c] as number), CUSTOMER_SUBNETS);
    } else {
      const home = randomInt(rng, homeIpSpace);
      link(a, 'ip', ip(home));
      link(a, 'subnet', subnetOf(home));
    }
    // payment and device: mostly own, families share
    if (rng() < 0.65)
      link(
        a,
        'payment',
        rng() < 0.04 ? `family-card-${randomInt(rng, Math.round(n * 0.01))}` : `card-${a}`,
      );
    if (rng() < 0.5)
      link(
        a,
        'device',
        rng() < 0.03 ? `family-dev-${randomInt(rng, Math.round(n * 0.01))}` : `dev-${a}`,
      );
    // prompts
    const prompts = rng() < 0.3 ? 2 : 1;
    for (let p = 0; p < prompts; p++) {
      if (rng() < 0.2)
        link(
          a,
          'prompt',
          variant(rng, popular[randomInt(rng, popular.length)] as [number, number], 2),
        );
      else link(a, 'prompt', hex32(rng() * 2 ** 32) + hex32(rng() * 2 ** 32));
    }
  }

  return {
    input: {
      accounts,
      identifiers: IdentifierTable.of(identifiers),
      linkAccount: linkAccount.slice(0, links),
      linkIdentifier: linkIdentifier.slice(0, links),
      linkCount: new Float64Array(links).fill(1),
      models: [],
      allowlist: [],
      previousClusters: [],
      previousRunId: null,
    },
    planted,
  };
}

/**
 * Stress graph for detect alone, shaped like the reference run: n accounts in
 * planted communities of 10–200, `edges` distinct edges (80 % inside a community,
 * 20 % anywhere), one giant component, so nearly everything needs Louvain.
 */
export function plantedGraph(n: number, edges: number, seed = 1): LinkageGraph {
  const rng = createRng(seed);
  const start = new Int32Array(n);
  const size = new Int32Array(n);
  for (let at = 0; at < n;) {
    const s = Math.min(n - at, 10 + randomInt(rng, 191));
    for (let i = at; i < at + s; i++) {
      start[i] = at;
      size[i] = s;
    }
    at += s;
  }
  const keys = new Float64Array(edges * 1.05);
  for (let e = 0; e < keys.length; e++) {
    const a = randomInt(rng, n);
    let b =
      rng() < 0.8 ? (start[a] as number) + randomInt(rng, size[a] as number) : randomInt(rng, n);
    if (b === a) b = (a + 1) % n;
    keys[e] = Math.min(a, b) * n + Math.max(a, b);
  }
  // Distinct keys, then `edges` of them drawn at random (a partial Fisher–Yates): keeping
  // the first `edges` in sorted order dropped every edge whose smaller end had a high id,
  // and with them the internal edges of the last few percent of communities (review).
  keys.sort();
  let unique = 0;
  for (let e = 0; e < keys.length; e++)
    if (e === 0 || keys[e] !== keys[e - 1]) keys[unique++] = keys[e] as number;
  const kept = Math.min(edges, unique);
  for (let i = 0; i < kept; i++) {
    const j = i + randomInt(rng, unique - i);
    const k = keys[i] as number;
    keys[i] = keys[j] as number;
    keys[j] = k;
  }
  const chosen = keys.subarray(0, kept).sort();
  const source = new Int32Array(kept);
  const target = new Int32Array(kept);
  const weight = new Float64Array(kept);
  let m = 0;
  for (let e = 0; e < kept; e++) {
    const k = chosen[e] as number;
    source[m] = Math.floor(k / n);
    target[m] = k - Math.floor(k / n) * n;
    weight[m] = 0.1 + rng();
    m++;
  }
  return {
    accountCount: n,
    source: source.subarray(0, m),
    target: target.subarray(0, m),
    weight: weight.subarray(0, m),
    stats: {},
  };
}
