/**
 * extract: the first stage of a linkage run, the only one besides publish that
 * reads Neo4j. Produces the LinkageInput the pure stages work on.
 *
 * Accounts are read in pages of `pageSize` in id order (`a.id > $after`, served by
 * the unique index), one read transaction per page, so no transaction or driver
 * buffer ever holds the whole graph and reads go to any cluster member. Memory
 * stays compact at millions of links: links go into growable typed arrays, each
 * distinct shared value is interned through one Map per kind into a packed
 * IdentifierTable, and the accounts' facts go into columns (account-table.ts).
 * Subnet links are derived (account → IP → subnet, counts summed per account).
 *
 * The next page is read while the current one is converted (its cursor is the
 * last id of the current page). Pages are separate transactions, so an account
 * written during extraction may be missed or seen with some of its newest links:
 * the next run picks it up. Each read starts from the bookmarks of the one before, so
 * on a cluster no page comes from a server behind the state an earlier page saw.
 */
import { MAX_FUTURE_HOURS } from '../ingest/event-schema';
import { query, type CypherMap } from '../platform/cypher';
import { type Database, type Reader, int as toNeoInt, toNumber } from '../platform/neo4j';
import {
  type AllowlistEntry,
  parseConfigAllowlist,
  readStoredAllowlist,
  entryKey,
} from './allowlist';
import { AccountTableBuilder, type AccountRow } from './account-table';
import { PACKED_FORMAT, PackedPageReader, type PageSink } from './extract-packed';
import { Growable, StringIndex } from './growable';
import { IdentifierTableBuilder, type IdentifierTable } from './identifier-table';
import { type AgeableKind, agesAnything, type LinkMaxAge, notBefore } from './link-age';
import { IDENTIFIER_KINDS, type IdentifierKind, type LinkageInput } from './types';

export interface ExtractOptions {
  /** accounts per read transaction */
  pageSize: number;
  /** LINKAGE_ALLOWLIST ("kind:value,…"), added to the stored entries */
  configAllowlist: string;
  /** accounts read so far, of about `total` (counted when extraction starts) */
  onProgress?: (accountsRead: number, total: number) => void;
  /** called between pages; throws to stop (lease lost) */
  checkAbort?: () => void;
  /** read packed pages when Neo4j has the launcher's procedure (false: always Cypher) */
  packed: boolean;
  /**
   * a packed page ends early once it holds this many bytes: Neo4j builds each page whole
   * in its heap (4 MiB for 20,000 accounts at the 1M bench's mix)
   */
  maxPageBytes: number;
  /** links older than this per kind (before the newest activity) do not link (link-age.ts) */
  linkMaxAge: LinkMaxAge;
  /** the clock (epoch ms) that caps the newest activity, as ingest caps events (Date.now()) */
  now?: number;
}

/**
 * Converting a page yields to the event loop every this many accounts, so the driver
 * keeps reading the next page and asking Neo4j for more of it meanwhile (otherwise
 * Neo4j stops after one fetch batch until the whole page is converted).
 */
const YIELD_EVERY = 250;

export const DEFAULTS: ExtractOptions = {
  pageSize: 20_000,
  configAllowlist: '',
  packed: true,
  maxPageBytes: 16 * 1024 * 1024,
  linkMaxAge: {},
};

export interface ExtractResult {
  input: LinkageInput;
  stats: Record<string, number>;
}

function num(value: unknown, fallback = 0): number {
  if (typeof value === 'number') return value;
  return value === null || value === undefined ? fallback : toNumber(value);
}

/**
 * A stored link's events: ingest writes counts ≥ 1, so one missing or not a finite
 * number > 0 (NaN, negative, written by hand) is read as one event, never as NaN, which
 * would also void the sum of its subnet.
 */
function events(count: unknown): number {
  const c = num(count, 1);
  return Number.isFinite(c) && c > 0 ? c : 1;
}

/** A list of numbers; the driver's own array when it holds numbers only (no copy). */
function nums(list: unknown): number[] {
  if (!Array.isArray(list)) return [];
  return list.every((x) => typeof x === 'number') ? (list as number[]) : list.map((x) => num(x));
}

/** A model's or capability's name; a name that is not a string is not Coterie's data. */
function nameOf(value: unknown): string {
  if (typeof value === 'string' || value === null || value === undefined) return String(value);
  throw new Error(`expected a name, got ${typeof value}`);
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** What linkage/read-accounts-page returns per account. */
const PAGE_FIELDS = [
  'id',
  'aged',
  'signupAt',
  'firstSeen',
  'lastSeen',
  'requests',
  'hourKeys',
  'hourCounts',
  'emailDomain',
  'org',
  'payment',
  'device',
  'ip',
  'prompt',
  'emailDomains',
  'orgs',
  'models',
  'capabilities',
] as const;
type PageField = (typeof PAGE_FIELDS)[number];

/** Each field's position in a page's records (all records of a result share keys). */
function fieldPositions(keys: readonly PropertyKey[] | undefined): Record<PageField, number> {
  const at = {} as Record<PageField, number>;
  for (const f of PAGE_FIELDS) {
    const i = keys === undefined ? 0 : keys.indexOf(f);
    if (i < 0) throw new Error(`linkage/read-accounts-page returns no '${f}' column`);
    at[f] = i;
  }
  return at;
}

function nullableNum(value: unknown): number | null {
  return value === null || value === undefined ? null : num(value);
}

/** Turns pages' accounts into the run's columns and link arrays (both page formats). */
class InputBuilder implements PageSink {
  readonly accounts = new AccountTableBuilder();
  private readonly identifiers = new IdentifierTableBuilder();
  private readonly byKind = new Map<IdentifierKind, StringIndex>(
    IDENTIFIER_KINDS.map((k) => [k, new StringIndex()]),
  );
  readonly linkAccount = Growable.int32();
  readonly linkIdentifier = Growable.int32();
  readonly linkCount = Growable.float64();
  readonly linksPerKind: Record<string, number> = {};
  private readonly subnets = new Map<string, number>(); // one account's subnets, reused

  private identifierIndex(kind: IdentifierKind, value: string): number {
    const map = this.byKind.get(kind) as StringIndex;
    let i = map.get(value);
    if (i === undefined) {
      i = this.identifiers.add(kind, value);
      map.set(value, i);
    }
    return i;
  }

  /** The identifiers packed, and the interning maps (every value's string) let go. */
  finishIdentifiers(): IdentifierTable {
    for (const map of this.byKind.values()) map.clear();
    return this.identifiers.finish();
  }

  nextAccount(): number {
    return this.accounts.length;
  }

  link(account: number, kind: IdentifierKind, value: unknown, count: unknown): void {
    if (typeof value !== 'string' || value.length === 0) return;
    this.linkAccount.push(account);
    this.linkIdentifier.push(this.identifierIndex(kind, value));
    this.linkCount.push(events(count));
    this.linksPerKind[kind] = (this.linksPerKind[kind] ?? 0) + 1;
  }

  subnet(subnet: unknown, count: unknown): void {
    if (typeof subnet === 'string')
      this.subnets.set(subnet, (this.subnets.get(subnet) ?? 0) + events(count));
  }

  endIps(account: number): void {
    for (const [s, c] of this.subnets) this.link(account, 'subnet', s, c);
    this.subnets.clear();
  }

  account(row: AccountRow): void {
    this.accounts.add(row);
  }
}

/** One page read, converted later (while the next one is read). */
interface Page {
  accounts: number;
  /** links left out as aged */
  aged: number;
  lastId: string | undefined;
  /** whether accounts may follow lastId */
  more: boolean;
  convert(into: InputBuilder): Promise<void>;
}

const breathe = (): Promise<void> => new Promise<void>((go) => setImmediate(go));

/** Pages from linkage/read-accounts-page: one Bolt record per account. */
function cypherPages(db: Reader, cypher: CypherMap, pageSize: number, since: NotBefore) {
  const pageQuery = query(cypher, 'linkage/read-accounts-page');
  return async (after: string): Promise<Page> => {
    const records = await db.read(async (tx) => {
      const res = await tx.run(pageQuery, {
        after,
        limit: toNeoInt(pageSize),
        notBefore: since,
      });
      return res.records;
    });
    type PageRecord = (typeof records)[number];
    const last = records[records.length - 1];
    let aged = 0;
    for (const r of records) aged += num(r.get('aged'));
    return {
      accounts: records.length,
      aged,
      lastId: last === undefined ? undefined : String(last.get('id')),
      more: records.length === pageSize,
      async convert(into) {
        // Fields by position: Record.toObject() walks a generator per field, ~3 s at 1M accounts.
        const at = fieldPositions(records[0]?.keys);
        const field = (r: PageRecord, key: PageField): unknown => r.get(at[key]);
        const pairs = (r: PageRecord, key: PageField) =>
          (field(r, key) as unknown[][] | null) ?? [];
        let converted = 0;
        for (const r of records) {
          if (++converted % YIELD_EVERY === 0) await breathe();
          const a = into.nextAccount();
          for (const [v, c] of pairs(r, 'payment')) into.link(a, 'payment', v, c);
          for (const [v, c] of pairs(r, 'device')) into.link(a, 'device', v, c);
          for (const [v, c, subnet] of pairs(r, 'ip')) {
            into.link(a, 'ip', v, c);
            into.subnet(subnet, c);
          }
          into.endIps(a);
          for (const [v, c] of pairs(r, 'prompt')) into.link(a, 'prompt', v, c);
          for (const [v, c] of pairs(r, 'emailDomains')) into.link(a, 'email_domain', v, c);
          for (const [v, c] of pairs(r, 'orgs')) into.link(a, 'org', v, c);
          into.account({
            id: String(field(r, 'id')),
            signupAt: nullableNum(field(r, 'signupAt')),
            firstSeen: num(field(r, 'firstSeen')),
            lastSeen: num(field(r, 'lastSeen')),
            requests: num(field(r, 'requests')),
            emailDomain: stringOrNull(field(r, 'emailDomain')),
            org: stringOrNull(field(r, 'org')),
            hourKeys: nums(field(r, 'hourKeys')),
            hourCounts: nums(field(r, 'hourCounts')),
            models: pairs(r, 'models').map(([name, count, firstUse, hk, hc]) => ({
              name: nameOf(name),
              count: num(count),
              firstUse: num(firstUse),
              hourKeys: nums(hk),
              hourCounts: nums(hc),
            })),
            capabilities: pairs(r, 'capabilities').map(([name, count]) => ({
              name: nameOf(name),
              count: num(count),
            })),
          });
        }
      },
    };
  };
}

/** Pages from the launcher's coterie.linkageAccountsPage: a list of base64 chunks per page. */
function packedPages(
  db: Reader,
  cypher: CypherMap,
  pageSize: number,
  maxBytes: number,
  since: NotBefore,
) {
  const pageQuery = query(cypher, 'linkage/read-accounts-page-packed');
  return async (after: string): Promise<Page> => {
    const record = await db.read(async (tx) => {
      const res = await tx.run(pageQuery, {
        after,
        limit: toNeoInt(pageSize),
        maxBytes: toNeoInt(maxBytes),
        notBefore: since,
      });
      return res.records[0];
    });
    const page = record?.get('page') as string[];
    const lastId = record?.get('lastId') as string | null;
    const reader = new PackedPageReader(page);
    const accounts = reader.header();
    return {
      accounts,
      aged: num(record?.get('aged')),
      lastId: lastId ?? undefined,
      more: record?.get('more') === true,
      async convert(into) {
        for (let i = 1; i <= accounts; i++) {
          if (i % YIELD_EVERY === 0) await breathe();
          reader.next(into);
        }
        if (!reader.done()) throw new Error('packed extract page: bytes left after its accounts');
      },
    };
  };
}

/**
 * Whether this Neo4j has the launcher's procedure in the layout this reader knows
 * (a Neo4j started elsewhere usually has not: extract then reads with Cypher).
 */
async function hasPackedPages(db: Reader, cypher: CypherMap): Promise<boolean> {
  const format = await unlessNoProcedure(
    db.read(async (tx) => {
      const res = await tx.run(query(cypher, 'linkage/read-packed-format'));
      return num(res.records[0]?.get('format'), -1);
    }),
  );
  return format === PACKED_FORMAT;
}

/** What a call to one of the launcher's procedures gives, or undefined on a Neo4j without it. */
async function unlessNoProcedure<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (err) {
    if ((err as { code?: string }).code === 'Neo.ClientError.Procedure.ProcedureNotFound')
      return undefined;
    throw err;
  }
}

/**
 * The launcher's Neo4j collects now and gives back its free heap (MiB committed before
 * and after; a launcher without the procedure gets nothing done, and no error). Called
 * when extract starts and when it ends: Neo4j idles from then until publish while build
 * holds the run's most memory.
 */
async function releaseNeo4jHeap(
  db: Reader,
  cypher: CypherMap,
): Promise<{ neo4jHeapMiB: number; neo4jHeapAfterMiB: number } | undefined> {
  return unlessNoProcedure(
    db.read(async (tx) => {
      const r = (await tx.run(query(cypher, 'linkage/release-neo4j-heap'))).records[0];
      const mib = (v: unknown) => Math.round(num(v) / 2 ** 20);
      return { neo4jHeapMiB: mib(r?.get('before')), neo4jHeapAfterMiB: mib(r?.get('after')) };
    }),
  );
}

export async function extract(
  db: Database,
  cypher: CypherMap,
  options: Partial<ExtractOptions> = {},
): Promise<ExtractResult> {
  const opts: ExtractOptions = { ...DEFAULTS, ...options };
  const started = Date.now();
  const into = new InputBuilder();
  // Every read below starts from the state the one before saw (Database.chainedReader).
  const reads = db.chainedReader();

  const total = await reads.read(async (tx) => {
    const res = await tx.run(query(cypher, 'linkage/read-account-count'));
    return num(res.records[0]?.get('accounts'));
  });
  // Read first, so a run applies the list as it stood when the run started: an entry
  // added while it reads pages waits for the next run, as README says.
  const allowlist = await readAllowlist(reads, cypher, opts.configAllowlist);
  // Ages are measured back from the newest activity in the data, not the clock (link-age.ts).
  const asOfStarted = Date.now();
  const asOf = agesAnything(opts.linkMaxAge)
    ? await newestActivity(reads, cypher, opts.now ?? Date.now())
    : null;
  const asOfMs = Date.now() - asOfStarted;
  const since = notBefore(asOf ?? 0, asOf === null ? {} : opts.linkMaxAge);
  const packed = opts.packed && (await hasPackedPages(reads, cypher));
  // Also before the first page: whatever came before the run (a publish, a burst of
  // ingest) can leave the heap grown while extract fills the page cache beside it.
  const startHeap = packed ? await releaseNeo4jHeap(reads, cypher) : undefined;
  const readPage = packed
    ? packedPages(reads, cypher, opts.pageSize, opts.maxPageBytes, since)
    : cypherPages(reads, cypher, opts.pageSize, since);
  let pages = 0;
  let agedLinks = 0;
  let pending: Promise<Page> | null = readPage('');
  pending.catch(() => undefined);
  while (pending !== null) {
    opts.checkAbort?.();
    const page: Page = await pending;
    pages++;
    agedLinks += page.aged;
    // The next page is read while this one is turned into arrays.
    pending = page.more && page.lastId !== undefined ? readPage(page.lastId) : null;
    // Marked handled now: if this page throws (or a check aborts) before the next
    // one is awaited, its rejection is not an unhandled one; awaiting it still throws.
    pending?.catch(() => undefined);
    await page.convert(into);
    opts.onProgress?.(into.accounts.length, Math.max(total, into.accounts.length));
  }
  // Packed now, before the reads below: the builder's spare room and the value strings
  // the maps hold go before build needs the memory.
  const identifiers = into.finishIdentifiers();
  const { accounts, linkAccount, linkIdentifier, linkCount, linksPerKind } = into;

  const models = await reads.read(async (tx) => {
    const res = await tx.run(query(cypher, 'linkage/read-model-names'));
    return res.records.map((r) => String(r.get('name')));
  });
  // On the leader (a write transaction that writes nothing): a lagging replica could
  // still point at the run before the current one, and ids would be matched against it.
  const { previousRunId, previousClusters } = await db.write(async (tx) => {
    const pointer = await tx.run(query(cypher, 'linkage/read-current-pointer'));
    const runId = pointer.records[0]?.get('runId') as string | null | undefined;
    const res = await tx.run(query(cypher, 'linkage/read-current-clusters'));
    return {
      previousRunId: runId ?? null,
      previousClusters: res.records.map((r) => ({
        id: String(r.get('id')),
        members: (r.get('members') as unknown[]).map(String),
      })),
    };
  });

  const heap = packed ? await releaseNeo4jHeap(reads, cypher) : undefined;

  const input: LinkageInput = {
    accounts: accounts.finish(),
    identifiers,
    linkAccount: linkAccount.done(),
    linkIdentifier: linkIdentifier.done(),
    linkCount: linkCount.done(),
    models,
    allowlist: allowlist.map(({ kind, value }) => ({ kind, value })),
    previousClusters,
    previousRunId,
  };
  const stats: Record<string, number> = {
    accounts: accounts.length,
    identifiers: identifiers.length,
    links: linkAccount.length,
    agedLinks,
    pages,
    packed: packed ? 1 : 0,
    models: models.length,
    allowlist: allowlist.length,
    previousClusters: previousClusters.length,
    ms: Date.now() - started,
  };
  if (startHeap) {
    stats.neo4jHeapStartMiB = startHeap.neo4jHeapMiB;
    stats.neo4jHeapStartAfterMiB = startHeap.neo4jHeapAfterMiB;
  }
  if (heap) Object.assign(stats, heap);
  if (asOf !== null) Object.assign(stats, { agedAsOf: asOf, agedAsOfMs: asOfMs });
  for (const kind of IDENTIFIER_KINDS) stats[`links_${kind}`] = linksPerKind[kind] ?? 0;
  return { input, stats };
}

/** Per kind, the earliest lastSeen of a link that still links (null: never ages). */
type NotBefore = Record<AgeableKind, number | null>;

/**
 * The newest activity in the graph (the largest Account.lastSeen), or null with none. At
 * most as far ahead of `now` as ingest accepts events: a lastSeen written by hand years
 * ahead would otherwise age every link.
 */
async function newestActivity(db: Reader, cypher: CypherMap, now: number): Promise<number | null> {
  const newest = await db.read(async (tx) => {
    const res = await tx.run(query(cypher, 'linkage/read-newest-activity'));
    const v = res.records[0]?.get('asOf');
    return v === null || v === undefined ? null : num(v);
  });
  return newest === null ? null : Math.min(newest, now + MAX_FUTURE_HOURS * 3_600_000);
}

/** Config entries plus stored ones, each value once. */
async function readAllowlist(
  db: Reader,
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
