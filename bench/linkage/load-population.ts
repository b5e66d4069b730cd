/**
 * Fast loader for the linkage benchmarks: writes synthetic.ts's seeded population
 * (the same accounts and account–identifier links the detect bench uses) straight
 * into an EMPTY Neo4j, shaped exactly like the ingest model of cypher/README.md,
 * with big UNWIND … CREATE batches instead of the event ingest path (which is
 * benchmarked on its own and is far too slow for millions of links).
 *
 *   Account {id, signupAt, firstSeen, lastSeen, requests, hourKeys, hourCounts,
 *            emailDomain, org}
 *   -[:PAID_WITH|USED_DEVICE|CONNECTED_FROM|SENT|HAS_EMAIL_DOMAIN|IN_ORG
 *     {count, firstSeen, lastSeen}]-> identifier nodes (each created once, with
 *     firstSeen / lastSeen over the accounts that use it)
 *   (IP {address, subnet})-[:IN_SUBNET]->(Subnet {cidr}): subnet links are not
 *     stored per account, extract derives them through the IP, as for ingested data
 *   -[:USED_MODEL {count, firstUse, lastUse, hourKeys, hourCounts}]->(Model)
 *   -[:REQUESTED {count}]->(Capability)
 *
 * synthetic.ts has no time or traffic, so this adds it from its own seeded rng
 * (the links are untouched): individuals and companies with spread-out sign-ups,
 * daytime (companies: office-hour) activity on one model and mixed capabilities;
 * campaigns with sign-up bursts, heavy synchronised around-the-clock traffic on
 * one capability, and campaign 2 moving half its traffic to a new model within
 * 24 h of its release. Duplicate links of one account to one value become one
 * relationship with their counts summed, as aggregation at ingest would.
 *
 * Library: `loadSyntheticPopulation(db, n, seed)`. CLI (used by pipeline-bench.ts
 * so the population's memory never counts in the run's peak):
 *   npx tsx bench/linkage/load-population.ts --uri bolt://127.0.0.1:PORT --accounts N [--seed 1]
 * prints one JSON line with the load's figures.
 */
import { createRng, randomInt, type Rng } from '../../src/linkage/rng';
import type { IdentifierKind, LinkageInput } from '../../src/linkage/types';
import { Database, createDriver } from '../../src/platform/neo4j';
import { synthesize } from './synthetic';
import { benchArgs, runBench, wholeOption } from '../options';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Start of the traffic window (60 days); sign-ups reach back up to a year before it. */
const T0 = Date.UTC(2026, 8, 1);
const WINDOW_DAYS = 60;
/** The "new" model's first appearance: day 40 of the window. */
const RELEASE = T0 + 40 * DAY_MS;
const MODELS = { old: 'model-a', fresh: 'model-b' };
const CAPABILITIES = ['reasoning', 'coding', 'tool_use', 'chat', 'writing'];
const CAMPAIGN_CAPABILITY = ['reasoning', 'tool_use', 'coding'];

export interface LoadOptions {
  /** rows per UNWIND transaction */
  batchSize: number;
  /** transactions in flight at once (disjoint rows; a deadlock is retried by executeWrite) */
  concurrency: number;
  log?: (msg: string) => void;
}

export const DEFAULTS: LoadOptions = { batchSize: 10_000, concurrency: 3 };

export interface LoadResult {
  accounts: number;
  /** synthetic.ts's account–identifier links (subnet links included, as in its input) */
  links: number;
  identifiers: number;
  /** relationships written, per type */
  relationships: Record<string, number>;
  nodes: Record<string, number>;
  planted: number[];
  ms: number;
  /** ms per step */
  steps: Record<string, number>;
}

export interface Activity {
  signupAt: number;
  firstSeen: number;
  lastSeen: number;
  requests: number;
  hourKeys: number[];
  hourCounts: number[];
  models: {
    name: string;
    count: number;
    firstUse: number;
    lastUse: number;
    hourKeys: number[];
    hourCounts: number[];
  }[];
  capabilities: { name: string; count: number }[];
}

/** `k` distinct hour keys: day in [fromDay, toDay), hour of day from `hours`. */
function pickHours(rng: Rng, k: number, fromDay: number, toDay: number, hours: number[]): number[] {
  const t0h = T0 / HOUR_MS;
  const out = new Set<number>();
  for (let tries = 0; out.size < k && tries < k * 4; tries++) {
    const day = fromDay + randomInt(rng, Math.max(1, toDay - fromDay));
    out.add(t0h + day * 24 + (hours[randomInt(rng, hours.length)] as number));
  }
  return [...out];
}

const range = (a: number, b: number): number[] => Array.from({ length: b - a }, (_, i) => a + i);
const DAYTIME = range(8, 24);
const OFFICE = range(9, 18);
const ALL_DAY = range(0, 24);

/** Traffic for one account; `campaign` is -1, or 0..2; `company` for office hours. */
function activity(rng: Rng, campaign: number, company: boolean, schedules: number[][]): Activity {
  let signupAt: number;
  let hourKeys: number[];
  let perHour: () => number;
  if (campaign >= 0) {
    // Burst of sign-ups just before the window, synchronised around-the-clock traffic.
    signupAt = T0 - (10 - 3 * campaign) * DAY_MS + Math.floor(rng() * 2 * DAY_MS);
    const schedule = schedules[campaign] as number[];
    const picked = new Set<number>();
    for (let i = 0; i < 16; i++) picked.add(schedule[randomInt(rng, schedule.length)] as number);
    hourKeys = [...picked];
    perHour = () => 10 + randomInt(rng, 30);
  } else {
    signupAt = T0 - Math.floor(rng() * 365 * DAY_MS);
    hourKeys = pickHours(rng, 1 + randomInt(rng, 6), 0, WINDOW_DAYS, company ? OFFICE : DAYTIME);
    perHour = () => 1 + randomInt(rng, 8);
  }
  const hourCounts = hourKeys.map(() => perHour());
  const requests = hourCounts.reduce((s, c) => s + c, 0);
  let min = Infinity;
  let max = -Infinity;
  for (const k of hourKeys) {
    if (k < min) min = k;
    if (k > max) max = k;
  }
  // Models: everything on the old model, except campaign 2 (half moved to the new one
  // within 24 h of its release) and 10 % of the others (some traffic after the release).
  const releaseH = RELEASE / HOUR_MS;
  const models: Activity['models'] = [];
  const moved = campaign === 2 || (campaign < 0 && rng() < 0.1);
  const oldKeys: number[] = [];
  const oldCounts: number[] = [];
  const newKeys: number[] = [];
  const newCounts: number[] = [];
  hourKeys.forEach((k, i) => {
    const c = hourCounts[i] as number;
    if (moved && (k >= releaseH || (campaign === 2 && i % 2 === 1))) {
      // campaign 2's moved traffic lands in the first 24 h after the release
      newKeys.push(campaign === 2 ? releaseH + (k % 20) : k);
      newCounts.push(c);
    } else {
      oldKeys.push(k);
      oldCounts.push(c);
    }
  });
  const use = (name: string, keys: number[], counts: number[]) => {
    if (keys.length === 0) return;
    const merged = new Map<number, number>();
    keys.forEach((k, i) => merged.set(k, (merged.get(k) ?? 0) + (counts[i] as number)));
    const ks = [...merged.keys()];
    models.push({
      name,
      count: [...merged.values()].reduce((s, c) => s + c, 0),
      firstUse: Math.min(...ks) * HOUR_MS,
      lastUse: Math.max(...ks) * HOUR_MS + HOUR_MS - 1,
      hourKeys: ks,
      hourCounts: [...merged.values()],
    });
  };
  use(MODELS.old, oldKeys, oldCounts);
  use(MODELS.fresh, newKeys, newCounts);
  // Capabilities: campaigns concentrated on one, others spread over one to three.
  const capabilities: Activity['capabilities'] = [];
  if (campaign >= 0) {
    const main = Math.max(1, Math.round(requests * 0.9));
    capabilities.push({ name: CAMPAIGN_CAPABILITY[campaign] as string, count: main });
    if (requests - main > 0) capabilities.push({ name: 'chat', count: requests - main });
  } else {
    const k = 1 + randomInt(rng, 3);
    const names = new Set<string>();
    for (let i = 0; i < k; i++)
      names.add(CAPABILITIES[randomInt(rng, CAPABILITIES.length)] as string);
    let left = requests;
    [...names].forEach((name, i, all) => {
      const c = i === all.length - 1 ? left : Math.max(1, Math.floor(left / 2));
      left -= c;
      if (c > 0) capabilities.push({ name, count: c });
    });
  }
  const firstSeen = Math.min(min * HOUR_MS, ...models.map((m) => m.firstUse));
  const lastSeen = Math.max(max * HOUR_MS + HOUR_MS - 1, ...models.map((m) => m.lastUse));
  return {
    signupAt,
    firstSeen: Math.max(signupAt, firstSeen),
    lastSeen,
    requests,
    hourKeys,
    hourCounts,
    models,
    capabilities,
  };
}

/**
 * Traffic for each of synthesize(n, seed)'s accounts, from its own rng (the links stay
 * exactly synthetic.ts's): what this loader writes, and what population-events.ts
 * turns into events.
 */
export function syntheticTraffic(
  input: LinkageInput,
  planted: Int8Array,
  seed: number,
): Activity[] {
  const { linkAccount, linkIdentifier } = input;
  const identifiers = input.identifiers.toArray();
  const n = input.accounts.length;
  const rng = createRng(seed * 1_000_003 + 17);
  const schedules = [0, 1, 2].map(() => pickHours(rng, 48, 0, WINDOW_DAYS, ALL_DAY));
  const acts: Activity[] = new Array<Activity>(n);
  // Companies are accounts with an org link.
  const inOrg = new Uint8Array(n);
  for (let l = 0; l < linkAccount.length; l++)
    if (identifiers[linkIdentifier[l] as number]?.kind === 'org')
      inOrg[linkAccount[l] as number] = 1;
  for (let a = 0; a < n; a++)
    acts[a] = activity(rng, planted[a] as number, inOrg[a] === 1, schedules);
  // Make the new model's first appearance exactly the release.
  const anyNew = acts.find((x) => x.models.some((m) => m.name === MODELS.fresh));
  const first = anyNew?.models.find((m) => m.name === MODELS.fresh);
  if (first) first.firstUse = RELEASE;
  return acts;
}

const LINK_WRITES: Record<
  Exclude<IdentifierKind, 'subnet'>,
  { label: string; key: string; rel: string }
> = {
  payment: { label: 'PaymentMethod', key: 'fingerprint', rel: 'PAID_WITH' },
  device: { label: 'Device', key: 'fingerprint', rel: 'USED_DEVICE' },
  ip: { label: 'IP', key: 'address', rel: 'CONNECTED_FROM' },
  prompt: { label: 'PromptFingerprint', key: 'hash', rel: 'SENT' },
  email_domain: { label: 'EmailDomain', key: 'name', rel: 'HAS_EMAIL_DOMAIN' },
  org: { label: 'Org', key: 'id', rel: 'IN_ORG' },
};

/**
 * Writes synthesize(n, seed) into `db` (which must hold no Account yet: everything is
 * CREATEd). Migrations (constraints) should be applied first: relationship writes
 * look nodes up by their unique keys.
 */
export async function loadSyntheticPopulation(
  db: Database,
  n: number,
  seed = 1,
  options: Partial<LoadOptions> = {},
): Promise<LoadResult> {
  const opts: LoadOptions = { ...DEFAULTS, ...options };
  const log = opts.log ?? (() => undefined);
  const started = Date.now();
  const steps: Record<string, number> = {};
  let clock = Date.now();
  const lap = (name: string) => {
    steps[name] = Date.now() - clock;
    clock = Date.now();
    log(`load: ${name} ${(steps[name] / 1000).toFixed(1)} s`);
  };

  const existing = await db.read(async (tx) => {
    const res = await tx.run('MATCH (a:Account) RETURN count(a) AS n');
    return Number(res.records[0]?.get('n') ?? 0);
  });
  if (existing > 0)
    throw new Error(`loadSyntheticPopulation needs an empty database (${existing} accounts)`);

  const { input, planted } = synthesize(n, seed);
  const { linkAccount, linkIdentifier } = input;
  const identifiers = input.identifiers.toArray();
  const L = linkAccount.length;
  lap('synthesize');

  const acts = syntheticTraffic(input, planted, seed);

  // Links → per-account, de-duplicated (account, identifier) with summed counts;
  // first/last seen of each identifier over its accounts.
  const idFirst = new Float64Array(identifiers.length).fill(Infinity);
  const idLast = new Float64Array(identifiers.length).fill(-Infinity);
  // Each IP's /24, by its address: an account on a proxy cell has several IPs (12-07).
  const subnetId = new Map<string, number>();
  identifiers.forEach((ident, id) => {
    if (ident.kind === 'subnet') subnetId.set(ident.value, id);
  });
  const ipSubnet = Int32Array.from(identifiers, (ident) =>
    ident.kind === 'ip'
      ? (subnetId.get(`${ident.value.slice(0, ident.value.lastIndexOf('.'))}.0/24`) ?? -1)
      : -1,
  );
  const emailOf = new Int32Array(n).fill(-1);
  const orgOf = new Int32Array(n).fill(-1);
  const order = Int32Array.from({ length: L }, (_, i) => i);
  order.sort((x, y) => (linkAccount[x] as number) - (linkAccount[y] as number) || x - y);
  const relCount: Record<string, number> = {};
  for (let p = 0; p < L;) {
    const a = linkAccount[order[p] as number] as number;
    let q = p;
    while (q < L && linkAccount[order[q] as number] === a) q++;
    const seen = new Map<number, number>();
    for (let i = p; i < q; i++) {
      const id = linkIdentifier[order[i] as number] as number;
      seen.set(id, (seen.get(id) ?? 0) + 1);
    }
    const act = acts[a] as Activity;
    for (const [id] of seen) {
      const ident = identifiers[id];
      if (!ident) continue;
      if (act.firstSeen < (idFirst[id] as number)) idFirst[id] = act.firstSeen;
      if (act.lastSeen > (idLast[id] as number)) idLast[id] = act.lastSeen;
      if (ident.kind === 'email_domain' && emailOf[a] === -1) emailOf[a] = id;
      if (ident.kind === 'org' && orgOf[a] === -1) orgOf[a] = id;
    }
    p = q;
  }
  lap('prepare');

  const write = async (
    text: string,
    rowsOf: (from: number, to: number) => unknown[],
    total: number,
  ) => {
    let next = 0;
    const worker = async () => {
      while (next < total) {
        const from = next;
        next += opts.batchSize;
        const batch = rowsOf(from, Math.min(total, from + opts.batchSize));
        if (batch.length > 0) await db.write((tx) => tx.run(text, { rows: batch }));
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, opts.concurrency) }, worker));
  };
  const nodes: Record<string, number> = {};

  // 1. Identifier nodes, once each (subnets before IPs: IN_SUBNET is created with the IP).
  const byKind = new Map<IdentifierKind, number[]>();
  identifiers.forEach((x, i) => {
    let list = byKind.get(x.kind);
    if (!list) byKind.set(x.kind, (list = []));
    list.push(i);
  });
  const subnetIds = byKind.get('subnet') ?? [];
  await write(
    'UNWIND $rows AS r CREATE (:Subnet {cidr: r.v})',
    (f, t) =>
      subnetIds.slice(f, t).map((i) => ({ v: (identifiers[i] as { value: string }).value })),
    subnetIds.length,
  );
  nodes.Subnet = subnetIds.length;
  for (const [kind, w] of Object.entries(LINK_WRITES)) {
    const ids = byKind.get(kind as IdentifierKind) ?? [];
    const props = `${w.key}: r.v, firstSeen: toInteger(r.f), lastSeen: toInteger(r.l)`;
    const text =
      kind === 'ip'
        ? `UNWIND $rows AS r MATCH (s:Subnet {cidr: r.s}) CREATE (:IP {${props}, subnet: r.s})-[:IN_SUBNET]->(s)`
        : `UNWIND $rows AS r CREATE (:${w.label} {${props}})`;
    await write(
      text,
      (f, t) =>
        ids.slice(f, t).map((i) => ({
          v: (identifiers[i] as { value: string }).value,
          f: idFirst[i],
          l: idLast[i],
          ...(kind === 'ip' ? { s: identifiers[ipSubnet[i] as number]?.value ?? null } : {}),
        })),
      ids.length,
    );
    nodes[w.label] = ids.length;
  }
  if (nodes.IP) relCount.IN_SUBNET = nodes.IP;
  await write('UNWIND $rows AS r CREATE (:Model {name: r})', () => [MODELS.old, MODELS.fresh], 1);
  await write('UNWIND $rows AS r CREATE (:Capability {name: r})', () => CAPABILITIES, 1);
  lap('identifier nodes');

  // 2. Accounts.
  await write(
    `UNWIND $rows AS r
     CREATE (:Account {id: r.id, signupAt: toInteger(r.signupAt), firstSeen: toInteger(r.firstSeen),
                       lastSeen: toInteger(r.lastSeen), requests: toInteger(r.requests),
                       hourKeys: [k IN r.hourKeys | toInteger(k)],
                       hourCounts: [c IN r.hourCounts | toInteger(c)],
                       emailDomain: r.emailDomain, org: r.org})`,
    (f, t) => {
      const out: Record<string, unknown>[] = [];
      for (let a = f; a < t; a++) {
        const x = acts[a] as Activity;
        out.push({
          id: `acc-${a}`,
          signupAt: x.signupAt,
          firstSeen: x.firstSeen,
          lastSeen: x.lastSeen,
          requests: x.requests,
          hourKeys: x.hourKeys,
          hourCounts: x.hourCounts,
          emailDomain: identifiers[emailOf[a] as number]?.value ?? null,
          org: identifiers[orgOf[a] as number]?.value ?? null,
        });
      }
      return out;
    },
    n,
  );
  nodes.Account = n;
  lap('accounts');

  // 3. Account → identifier relationships, per kind (subnets go through the IP).
  for (const [kind, w] of Object.entries(LINK_WRITES)) {
    const list: { a: string; v: string; c: number; f: number; l: number }[] = [];
    for (let p = 0; p < L;) {
      const a = linkAccount[order[p] as number] as number;
      let q = p;
      while (q < L && linkAccount[order[q] as number] === a) q++;
      const counts = new Map<number, number>();
      for (let i = p; i < q; i++) {
        const id = linkIdentifier[order[i] as number] as number;
        if (identifiers[id]?.kind === kind) counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      const act = acts[a] as Activity;
      // An IP or a prompt counts requests, as ingest counts them: the account's traffic
      // shared out over its values of the kind (until 12-07 one each, which left every
      // account under co-use's coUseMinEvents, so co-use and co-activity never ran here).
      const perRequest = kind === 'ip' || kind === 'prompt';
      let total = 0;
      for (const c of counts.values()) total += c;
      for (const [id, c] of counts)
        list.push({
          a: `acc-${a}`,
          v: (identifiers[id] as { value: string }).value,
          c: perRequest ? Math.max(1, Math.round((act.requests * c) / total)) : c,
          f: act.firstSeen,
          l: act.lastSeen,
        });
      p = q;
    }
    await write(
      `UNWIND $rows AS r
       MATCH (a:Account {id: r.a})
       MATCH (x:${w.label} {${w.key}: r.v})
       CREATE (a)-[:${w.rel} {count: toInteger(r.c), firstSeen: toInteger(r.f), lastSeen: toInteger(r.l)}]->(x)`,
      (f, t) => list.slice(f, t),
      list.length,
    );
    relCount[w.rel] = list.length;
    lap(`${w.rel} relationships`);
  }

  // 4. Models and capabilities.
  const modelRows: Record<string, unknown>[] = [];
  const capabilityRows: Record<string, unknown>[] = [];
  for (let a = 0; a < n; a++) {
    const x = acts[a] as Activity;
    for (const m of x.models) modelRows.push({ a: `acc-${a}`, ...m });
    for (const c of x.capabilities)
      capabilityRows.push({ a: `acc-${a}`, name: c.name, count: c.count });
  }
  await write(
    `UNWIND $rows AS r
     MATCH (a:Account {id: r.a})
     MATCH (m:Model {name: r.name})
     CREATE (a)-[:USED_MODEL {count: toInteger(r.count), firstUse: toInteger(r.firstUse),
                              lastUse: toInteger(r.lastUse), hourKeys: [k IN r.hourKeys | toInteger(k)],
                              hourCounts: [c IN r.hourCounts | toInteger(c)]}]->(m)`,
    (f, t) => modelRows.slice(f, t),
    modelRows.length,
  );
  relCount.USED_MODEL = modelRows.length;
  await write(
    `UNWIND $rows AS r
     MATCH (a:Account {id: r.a})
     MATCH (c:Capability {name: r.name})
     CREATE (a)-[:REQUESTED {count: toInteger(r.count)}]->(c)`,
    (f, t) => capabilityRows.slice(f, t),
    capabilityRows.length,
  );
  relCount.REQUESTED = capabilityRows.length;
  lap('model and capability relationships');

  const plantedSizes = [0, 0, 0];
  for (let a = 0; a < n; a++) {
    const c = planted[a] as number;
    if (c >= 0) plantedSizes[c] = (plantedSizes[c] as number) + 1;
  }
  return {
    accounts: n,
    links: L,
    identifiers: identifiers.length,
    relationships: relCount,
    nodes,
    planted: plantedSizes,
    ms: Date.now() - started,
    steps,
  };
}

async function main(): Promise<void> {
  const values = benchArgs(__filename, {
    uri: { type: 'string' },
    user: { type: 'string', default: 'neo4j' },
    // no default from NEO4J_PASSWORD here: --help prints the defaults
    password: { type: 'string' },
    accounts: { type: 'string', default: '100000' },
    seed: { type: 'string', default: '1' },
    'batch-size': { type: 'string' },
    concurrency: { type: 'string' },
  });
  if (!values.uri) throw new Error('--uri is required');
  const db = new Database(
    createDriver({
      uri: values.uri,
      user: values.user,
      password: values.password ?? process.env.NEO4J_PASSWORD ?? '',
    }),
  );
  try {
    const result = await loadSyntheticPopulation(
      db,
      wholeOption('accounts', values.accounts),
      wholeOption('seed', values.seed, 0),
      {
        ...(values['batch-size']
          ? { batchSize: wholeOption('batch-size', values['batch-size']) }
          : {}),
        ...(values.concurrency
          ? { concurrency: wholeOption('concurrency', values.concurrency) }
          : {}),
        log: (msg) => console.error(msg),
      },
    );
    const cpu = process.cpuUsage();
    console.log(
      JSON.stringify({
        ...result,
        cpuS: (cpu.user + cpu.system) / 1e6,
        peakRssKiB: process.resourceUsage().maxRSS,
      }),
    );
  } finally {
    await db.close();
  }
}

if (require.main === module) {
  runBench(main);
}
