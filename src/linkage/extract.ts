/**
 * extract: the first stage of a linkage run, the only one besides publish that
 * reads Neo4j. Produces the LinkageInput the pure stages work on.
 *
 * Accounts are read in pages of `pageSize` in id order (`a.id > $after`, served by
 * the unique index), one read transaction per page, so no transaction or driver
 * buffer ever holds the whole graph and reads go to any cluster member. Memory
 * stays compact at millions of links: links go into growable typed arrays, each
 * distinct shared value is one Identifier found through one Map per kind.
 * Subnet links are derived (account → IP → subnet, counts summed per account).
 *
 * The next page is read while the current one is converted (its cursor is the
 * last id of the current page). Pages are separate transactions, so an account
 * written during extraction may be missed or seen with some of its newest links:
 * the next run picks it up.
 */
import { query, type CypherMap } from '../platform/cypher';
import {
  type Database,
  type ManagedTransaction,
  int as toNeoInt,
  toNumber,
} from '../platform/neo4j';
import {
  type AllowlistEntry,
  parseConfigAllowlist,
  readStoredAllowlist,
  entryKey,
} from './allowlist';
import {
  IDENTIFIER_KINDS,
  type AccountFacts,
  type HourSeries,
  type Identifier,
  type IdentifierKind,
  type LinkageInput,
  type ModelUse,
} from './types';

export interface ExtractOptions {
  /** accounts per read transaction */
  pageSize: number;
  /** LINKAGE_ALLOWLIST ("kind:value,…"), added to the stored entries */
  configAllowlist: string;
  /** accounts read so far, of about `total` (counted when extraction starts) */
  onProgress?: (accountsRead: number, total: number) => void;
  /** called between pages; throws to stop (lease lost) */
  checkAbort?: () => void;
}

export const DEFAULTS: ExtractOptions = { pageSize: 20_000, configAllowlist: '' };

export interface ExtractResult {
  input: LinkageInput;
  stats: Record<string, number>;
}

/** Appendable typed array (doubling), so millions of links cost 16 bytes each. */
class Growable<T extends Int32Array | Float64Array> {
  length = 0;
  constructor(
    private data: T,
    private readonly make: (n: number) => T,
  ) {}

  push(x: number): void {
    if (this.length === this.data.length) {
      const next = this.make(Math.max(1024, this.data.length * 2));
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = x;
  }

  /** A right-sized copy. */
  done(): T {
    return this.data.slice(0, this.length) as T;
  }
}

function num(value: unknown, fallback = 0): number {
  return value === null || value === undefined ? fallback : toNumber(value);
}

function nullableNum(value: unknown): number | null {
  return value === null || value === undefined ? null : toNumber(value);
}

/** Parallel key/count lists (unsorted, as stored) → ascending HourSeries. */
function hourSeries(keys: unknown, counts: unknown): HourSeries {
  const k = Array.isArray(keys) ? keys.map((x) => num(x)) : [];
  const c = Array.isArray(counts) ? counts.map((x) => num(x)) : [];
  const order = k.map((_, i) => i).sort((x, y) => (k[x] as number) - (k[y] as number));
  return { keys: order.map((i) => k[i] as number), counts: order.map((i) => c[i] ?? 0) };
}

export async function extract(
  db: Database,
  cypher: CypherMap,
  options: Partial<ExtractOptions> = {},
): Promise<ExtractResult> {
  const opts: ExtractOptions = { ...DEFAULTS, ...options };
  const started = Date.now();

  const accounts: AccountFacts[] = [];
  const identifiers: Identifier[] = [];
  const byKind = new Map<IdentifierKind, Map<string, number>>(
    IDENTIFIER_KINDS.map((k) => [k, new Map<string, number>()]),
  );
  const linkAccount = new Growable(new Int32Array(1024), (n) => new Int32Array(n));
  const linkIdentifier = new Growable(new Int32Array(1024), (n) => new Int32Array(n));
  const linkCount = new Growable(new Float64Array(1024), (n) => new Float64Array(n));
  const linksPerKind: Record<string, number> = {};
  // One string per distinct model, capability, domain and org name, not one per
  // account: about 100 MiB less heap at 1M accounts, held through the whole run.
  const names = new Map<string, string>();
  const intern = (value: unknown): string => {
    const s = String(value);
    const known = names.get(s);
    if (known !== undefined) return known;
    names.set(s, s);
    return s;
  };

  const identifierIndex = (kind: IdentifierKind, value: string): number => {
    const map = byKind.get(kind) as Map<string, number>;
    let i = map.get(value);
    if (i === undefined) {
      i = identifiers.length;
      identifiers.push({ kind, value });
      map.set(value, i);
    }
    return i;
  };
  const link = (account: number, kind: IdentifierKind, value: unknown, count: unknown): void => {
    if (typeof value !== 'string' || value.length === 0) return;
    linkAccount.push(account);
    linkIdentifier.push(identifierIndex(kind, value));
    linkCount.push(Math.max(1, num(count, 1)));
    linksPerKind[kind] = (linksPerKind[kind] ?? 0) + 1;
  };

  const total = await db.read(async (tx) => {
    const res = await tx.run(query(cypher, 'linkage/read-account-count'));
    return num(res.records[0]?.get('accounts'));
  });
  const pageQuery = query(cypher, 'linkage/read-accounts-page');
  type Page = Awaited<ReturnType<ManagedTransaction['run']>>['records'];
  const readPage = (after: string): Promise<Page> =>
    db.read(async (tx) => {
      const res = await tx.run(pageQuery, { after, limit: toNeoInt(opts.pageSize) });
      return res.records;
    });
  let pages = 0;
  let pending: Promise<Page> | null = readPage('');
  pending.catch(() => undefined);
  while (pending !== null) {
    opts.checkAbort?.();
    const records: Page = await pending;
    pages++;
    // The next page is read while this one is turned into arrays.
    const last = records[records.length - 1];
    pending =
      records.length === opts.pageSize && last !== undefined
        ? readPage(String(last.get('id')))
        : null;
    // Marked handled now: if this page throws (or a check aborts) before the next
    // one is awaited, its rejection is not an unhandled one; awaiting it still throws.
    pending?.catch(() => undefined);
    for (const r of records) {
      const a = accounts.length;
      const row = r.toObject() as Record<string, unknown>;
      const pairs = (key: string) => (row[key] as unknown[][] | null) ?? [];
      for (const [v, c] of pairs('payment')) link(a, 'payment', v, c);
      for (const [v, c] of pairs('device')) link(a, 'device', v, c);
      const subnets = new Map<string, number>();
      for (const [v, c, subnet] of pairs('ip')) {
        link(a, 'ip', v, c);
        if (typeof subnet === 'string')
          subnets.set(subnet, (subnets.get(subnet) ?? 0) + Math.max(1, num(c, 1)));
      }
      for (const [s, c] of subnets) link(a, 'subnet', s, c);
      for (const [v, c] of pairs('prompt')) link(a, 'prompt', v, c);
      for (const [v, c] of pairs('emailDomains')) link(a, 'email_domain', v, c);
      for (const [v, c] of pairs('orgs')) link(a, 'org', v, c);

      const models: ModelUse[] = pairs('models').map(([name, count, firstUse, hk, hc]) => ({
        name: intern(name),
        count: num(count),
        firstUse: num(firstUse),
        hours: hourSeries(hk, hc),
      }));
      models.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
      const capabilities = pairs('capabilities')
        .map(([name, count]) => ({ name: intern(name), count: num(count) }))
        .sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
      accounts.push({
        id: String(row.id),
        signupAt: nullableNum(row.signupAt),
        firstSeen: num(row.firstSeen),
        lastSeen: num(row.lastSeen),
        requests: num(row.requests),
        hours: hourSeries(row.hourKeys, row.hourCounts),
        emailDomain: typeof row.emailDomain === 'string' ? intern(row.emailDomain) : null,
        org: typeof row.org === 'string' ? intern(row.org) : null,
        models,
        capabilities,
      });
    }
    opts.onProgress?.(accounts.length, Math.max(total, accounts.length));
  }

  const models = await db.read(async (tx) => {
    const res = await tx.run(query(cypher, 'linkage/read-model-first-use'));
    return res.records.map((r) => ({
      name: String(r.get('name')),
      firstSeen: num(r.get('firstSeen')),
    }));
  });
  const allowlist = await readAllowlist(db, cypher, opts.configAllowlist);
  const previousClusters = await db.read(async (tx) => {
    const res = await tx.run(query(cypher, 'linkage/read-current-clusters'));
    return res.records.map((r) => ({
      id: String(r.get('id')),
      members: (r.get('members') as unknown[]).map(String),
    }));
  });

  const input: LinkageInput = {
    accounts,
    identifiers,
    linkAccount: linkAccount.done(),
    linkIdentifier: linkIdentifier.done(),
    linkCount: linkCount.done(),
    models,
    allowlist: allowlist.map(({ kind, value }) => ({ kind, value })),
    previousClusters,
  };
  const stats: Record<string, number> = {
    accounts: accounts.length,
    identifiers: identifiers.length,
    links: linkAccount.length,
    pages,
    models: models.length,
    allowlist: allowlist.length,
    previousClusters: previousClusters.length,
    ms: Date.now() - started,
  };
  for (const kind of IDENTIFIER_KINDS) stats[`links_${kind}`] = linksPerKind[kind] ?? 0;
  return { input, stats };
}

/** Config entries plus stored ones, each value once. */
async function readAllowlist(
  db: Database,
  cypher: CypherMap,
  configSpec: string,
): Promise<AllowlistEntry[]> {
  const all = [...parseConfigAllowlist(configSpec), ...(await readStoredAllowlist(db, cypher))];
  const seen = new Set<string>();
  return all.filter((e) => {
    const key = entryKey(e.kind, e.value);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
