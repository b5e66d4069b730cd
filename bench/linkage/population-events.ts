/**
 * The linkage bench's population as events, so its database can be built the way a
 * service's is: through ingest, with every account's events spread over time and
 * interleaved with everyone else's, instead of load-population.ts writing account by
 * account. Same accounts and links (synthetic.ts), same traffic (syntheticTraffic).
 *
 *   npx tsx bench/linkage/population-events.ts --accounts 1000000 [--seed 1] --out FILE.jsonl
 *   NEO4J_LOCAL_DATA_DIR=DIR npm run coterie -- import FILE.jsonl
 *   node --import tsx bench/linkage/pipeline-bench.ts --accounts 1000000 --reuse-db DIR …
 *
 * Per account, in time order across all accounts:
 *   - a sign-up at its sign-up time, with its (first) e-mail domain and org;
 *   - a payment per card it uses, a minute later;
 *   - one request per (model, hour) of its traffic, at a fixed minute of that hour, with
 *     the model and one of its capabilities. The requests carry its IPs, prompts and
 *     devices in turn (and any further e-mail domain or org), with extra requests at the
 *     time of its last-built request when it has more of those than requests.
 * So every link of synthetic.ts is there, and subnets come from the IPs as ingest
 * derives them. The difference from the loader's database: a request count is one per
 * (model, hour), not the loader's 1–40, so link counts and hour counts are smaller.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { IdentifierKind } from '../../src/linkage/types';
import { syntheticTraffic } from './load-population';
import { synthesize } from './synthetic';
import { benchArgs, wholeOption } from '../options';

const HOUR_MS = 3_600_000;
const SIGNUP = 0;
const PAYMENT = 1;
const REQUEST = 2;

/** One event as numbers: what to write is looked up when it is written. */
class Events {
  at: number[] = [];
  account: number[] = [];
  type: number[] = [];
  /** index into the account's lists (payment: which card; request: which request) */
  slot: number[] = [];

  add(at: number, account: number, type: number, slot: number): void {
    this.at.push(at);
    this.account.push(account);
    this.type.push(type);
    this.slot.push(slot);
  }
}

interface AccountLinks {
  /** identifier values by kind, each once, in synthetic.ts's order */
  byKind: Partial<Record<IdentifierKind, string[]>>;
  /** (model, hour key) of each request, then the capability it names */
  requests: { model: string; hour: number; capability: string }[];
}

function main(): void {
  const args = benchArgs(__filename, {
    accounts: { type: 'string', default: '1000000' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string' },
  });
  const n = wholeOption('accounts', args.accounts);
  const seed = wholeOption('seed', args.seed, 0);
  if (!Number.isInteger(n) || n <= 0) throw new Error('--accounts must be a positive integer');
  if (!args.out) throw new Error('--out FILE.jsonl is required');

  const started = Date.now();
  const { input, planted } = synthesize(n, seed);
  const acts = syntheticTraffic(input, planted, seed);
  const { linkAccount, linkIdentifier } = input;
  const identifiers = input.identifiers.toArray();

  // Each account's distinct values per kind, in link order.
  const links: AccountLinks[] = Array.from({ length: n }, () => ({ byKind: {}, requests: [] }));
  for (let l = 0; l < linkAccount.length; l++) {
    const ident = identifiers[linkIdentifier[l] as number];
    if (!ident || ident.kind === 'subnet') continue;
    const byKind = (links[linkAccount[l] as number] as AccountLinks).byKind;
    const list = (byKind[ident.kind] ??= []);
    if (!list.includes(ident.value)) list.push(ident.value);
  }

  const events = new Events();
  for (let a = 0; a < n; a++) {
    const act = acts[a]!;
    const own = links[a] as AccountLinks;
    const minute = (a % 60) * 60_000;
    events.add(act.signupAt, a, SIGNUP, 0);
    (own.byKind.payment ?? []).forEach((_, i) => events.add(act.signupAt + 60_000, a, PAYMENT, i));
    const caps = act.capabilities.length > 0 ? act.capabilities.map((c) => c.name) : ['chat'];
    for (const m of act.models)
      for (const hour of m.hourKeys)
        own.requests.push({
          model: m.name,
          hour,
          capability: caps[own.requests.length % caps.length] as string,
        });
    const carried = ['ip', 'prompt', 'device'].map((k) => own.byKind[k as IdentifierKind] ?? []);
    const extra =
      Math.max(0, (own.byKind.email_domain?.length ?? 0) - 1) +
      Math.max(0, (own.byKind.org?.length ?? 0) - 1);
    const need = Math.max(...carried.map((list) => list.length), extra, 1);
    const last = own.requests[own.requests.length - 1] ?? {
      model: 'model-a',
      hour: Math.floor(act.lastSeen / HOUR_MS),
      capability: caps[0] as string,
    };
    while (own.requests.length < need) own.requests.push({ ...last });
    own.requests.forEach((r, i) => events.add(r.hour * HOUR_MS + minute, a, REQUEST, i));
  }

  // Time order (ties: account, then the order added, so the file is the same every run).
  const order = Array.from({ length: events.at.length }, (_, i) => i);
  order.sort(
    (x, y) =>
      (events.at[x] as number) - (events.at[y] as number) ||
      (events.account[x] as number) - (events.account[y] as number) ||
      x - y,
  );

  const fd = openSync(args.out, 'w');
  let chunk = '';
  const counts = [0, 0, 0];
  for (const e of order) {
    const a = events.account[e] as number;
    const type = events.type[e] as number;
    const slot = events.slot[e] as number;
    const own = links[a] as AccountLinks;
    const k = own.byKind;
    const ev: Record<string, string> = {
      type: ['signup', 'payment', 'request'][type] as string,
      accountId: `acc-${a}`,
      at: new Date(events.at[e] as number).toISOString(),
    };
    if (type === SIGNUP) {
      if (k.email_domain?.[0]) ev.emailDomain = k.email_domain[0];
      if (k.org?.[0]) ev.org = k.org[0];
    } else if (type === PAYMENT) {
      ev.paymentMethod = (k.payment as string[])[slot] as string;
    } else {
      const r = own.requests[slot]!;
      ev.model = r.model;
      ev.capability = r.capability;
      const pick = (list: string[] | undefined) =>
        list && list.length > 0 ? (list[slot % list.length] as string) : undefined;
      const ip = pick(k.ip);
      const prompt = pick(k.prompt);
      const device = pick(k.device);
      if (ip) ev.ip = ip;
      if (prompt) ev.promptFingerprint = prompt;
      if (device) ev.device = device;
      // Further e-mail domains and orgs, one per request from the first.
      const moreDomains = (k.email_domain ?? []).slice(1);
      const moreOrgs = (k.org ?? []).slice(1);
      if (slot < moreDomains.length) ev.emailDomain = moreDomains[slot] as string;
      else if (slot - moreDomains.length < moreOrgs.length)
        ev.org = moreOrgs[slot - moreDomains.length] as string;
    }
    counts[type] = (counts[type] as number) + 1;
    chunk += JSON.stringify(ev) + '\n';
    if (chunk.length > 1 << 20) {
      writeSync(fd, chunk);
      chunk = '';
    }
  }
  writeSync(fd, chunk);
  closeSync(fd);
  console.log(
    JSON.stringify({
      accounts: n,
      seed,
      events: order.length,
      signups: counts[SIGNUP],
      payments: counts[PAYMENT],
      requests: counts[REQUEST],
      out: args.out,
      seconds: (Date.now() - started) / 1000,
    }),
  );
}

main();
