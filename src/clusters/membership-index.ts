/**
 * The current run's memberships held in memory, per replica, so that
 * GET /v1/accounts/{id}/cluster answers without a Neo4j transaction.
 *
 * When the pointer is seen on a run (first use or a move), the index of the old run
 * is dropped at once and the new run's is loaded in the background in paged read
 * transactions (keyset paging by id): every cluster summary of the run, then every
 * account id with the index of its cluster (-1 for none). Until it is loaded, when
 * it failed (retried after `retryMs`, on the next lookup), when it is disabled or too
 * big, and for ids it does not hold (accounts ingested after the load), `lookup`
 * returns undefined and the caller reads Neo4j. A run's memberships never change
 * once the pointer is on it, so a loaded index is exact for its run; an account that
 * is not in it was ingested after the run and belongs to no cluster of it. (On a
 * cluster that holds because every page starts from the bookmarks of the pointer read
 * that named the run: no page is read on a server that has not caught up with it.)
 */
import type { Logger } from '../platform/logger';
import { type CypherMap, query } from '../platform/cypher';
import { type Bookmarks, type Database, type ManagedTransaction, int } from '../platform/neo4j';
import { summary } from './present';
import type { Membership } from './schemas';

export type ClusterSummary = NonNullable<Membership['cluster']>;

/** V8 Maps hold at most 2^24 entries. */
export const MAX_INDEX_ACCOUNTS = 16_000_000;

/** The pure part: cluster summaries and account id → cluster position (-1: none). */
export class MembershipTable {
  readonly clusters: ClusterSummary[] = [];
  private readonly clusterPos = new Map<string, number>();
  private readonly accounts = new Map<string, number>();

  constructor(readonly runId: string) {}

  addCluster(cluster: ClusterSummary): void {
    this.clusterPos.set(cluster.id, this.clusters.length);
    this.clusters.push(cluster);
  }

  /**
   * Aligned lists as the page query returns them ('' = in no cluster). A cluster id
   * not loaded (cannot happen for a published run) leaves the account out, so it
   * falls back to Neo4j rather than being answered wrongly.
   */
  addAccounts(ids: readonly string[], clusterIds: readonly string[]): void {
    for (let i = 0; i < ids.length; i++) {
      const clusterId = clusterIds[i] ?? '';
      const pos = clusterId === '' ? -1 : this.clusterPos.get(clusterId);
      if (pos !== undefined) this.accounts.set(ids[i] as string, pos);
    }
  }

  /** Done loading: the id → position map is only needed while accounts are added. */
  seal(): void {
    this.clusterPos.clear();
  }

  get size(): number {
    return this.accounts.size;
  }

  /** undefined: not in the table (ask Neo4j). */
  get(accountId: string): Membership | undefined {
    const pos = this.accounts.get(accountId);
    if (pos === undefined) return undefined;
    return { accountId, runId: this.runId, cluster: pos < 0 ? null : this.clusters[pos]! };
  }
}

export type IndexState = 'disabled' | 'empty' | 'loading' | 'ready' | 'failed' | 'too_large';

export interface IndexStatus {
  state: IndexState;
  runId: string | null;
  accounts: number;
  clusters: number;
}

export interface MembershipIndexOptions {
  db: Database;
  cypher: CypherMap;
  logger: Logger;
  /** 0 disables the index */
  maxAccounts: number;
  /** accounts (and clusters) per read transaction; default 50,000 */
  pageSize?: number;
  /** after a failed load, the next lookup retries once this long has passed; default 30 s */
  retryMs?: number;
  /** per page transaction: a background load, not an analyst's query; default 60 s */
  timeoutMs?: number;
  /** bookmarks every page starts from: the current-run read's (CurrentRun.bookmarks) */
  bookmarks?: () => Bookmarks;
}

export class MembershipIndex {
  private table: MembershipTable | null = null;
  /** the run the pointer was last seen on */
  private runId: string | null = null;
  private state: IndexState;
  private loading: Promise<void> | undefined;
  /** bumped on every run change: a load for an older generation stops and is dropped */
  private generation = 0;
  private retryAt = 0;
  private stopped = false;
  private readonly pageSize: number;
  private readonly retryMs: number;
  private readonly timeoutMs: number;

  constructor(private readonly opts: MembershipIndexOptions) {
    this.state = opts.maxAccounts > 0 ? 'empty' : 'disabled';
    this.pageSize = opts.pageSize ?? 50_000;
    this.retryMs = opts.retryMs ?? 30_000;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
  }

  /** The pointer moved (or was first read): drop the old run's index now, load the new one. */
  onRun(runId: string | null): void {
    if (runId === this.runId && this.table?.runId === runId) return;
    this.runId = runId;
    this.generation++;
    this.table = null;
    this.loading = undefined;
    this.retryAt = 0;
    if (this.state !== 'disabled') this.state = 'empty';
    this.ensureLoading();
  }

  /**
   * The membership of `accountId` in run `runId` if the index holds it; undefined
   * means "ask Neo4j" (not loaded yet, another run, or an id seen after the load).
   */
  lookup(runId: string, accountId: string): Membership | undefined {
    const table = this.table;
    if (table !== null && table.runId === runId) return table.get(accountId);
    // A request may still carry the run it read before the pointer moved: only the
    // pointer's listener (onRun) switches runs, this only retries a failed load.
    if (runId === this.runId) this.ensureLoading();
    return undefined;
  }

  status(): IndexStatus {
    return {
      state: this.state,
      runId: this.runId,
      accounts: this.table?.size ?? 0,
      clusters: this.table?.clusters.length ?? 0,
    };
  }

  /**
   * The service is stopping: a load on its way is dropped (its failure, as the driver
   * closes under it, is no "load failed" error in the log) and none starts.
   */
  stop(): void {
    this.stopped = true;
    this.generation++;
  }

  /** Resolves when the load in progress (if any) has finished, for tests and benchmarks. */
  async settled(): Promise<IndexStatus> {
    while (this.loading) await this.loading;
    return this.status();
  }

  private ensureLoading(): void {
    const runId = this.runId;
    if (runId === null || this.loading || this.table !== null || this.stopped) return;
    if (this.state === 'disabled' || this.state === 'too_large') return;
    if (this.state === 'failed' && Date.now() < this.retryAt) return;
    const generation = this.generation;
    this.state = 'loading';
    const loading = this.load(runId, generation).then(
      (table) => {
        if (generation !== this.generation) return;
        if (table === null) {
          this.state = 'too_large';
        } else {
          this.table = table;
          this.state = 'ready';
        }
      },
      (err: unknown) => {
        if (generation !== this.generation) return;
        this.state = 'failed';
        this.retryAt = Date.now() + this.retryMs;
        this.opts.logger.error(
          { err, runId, retryInMs: this.retryMs },
          'membership index: load failed; lookups read Neo4j until a retry succeeds',
        );
      },
    );
    const tracked: Promise<void> = loading.finally(() => {
      if (this.loading === tracked) this.loading = undefined;
    });
    this.loading = tracked;
  }

  /** null: the run has more accounts than maxAccounts (logged). */
  private async load(runId: string, generation: number): Promise<MembershipTable | null> {
    const { db, cypher, logger, maxAccounts } = this.opts;
    const timeoutMs = this.timeoutMs;
    // Taken as the load starts, after the pointer read that named runId: at least that new.
    const bookmarks = this.opts.bookmarks?.();
    const read = <T>(work: (tx: ManagedTransaction) => Promise<T>) =>
      db.read(work, timeoutMs, bookmarks);
    const started = Date.now();
    const stale = () => generation !== this.generation;
    const tooLarge = (accounts: number) => {
      logger.warn(
        { runId, accounts, maxAccounts },
        'membership index: not built, more accounts than MEMBERSHIP_INDEX_MAX_ACCOUNTS; lookups read Neo4j',
      );
      return null;
    };
    const counted = await read(async (tx) => {
      const res = await tx.run(query(cypher, 'linkage/read-account-count'));
      return Number(res.records[0]?.get('accounts') ?? 0);
    });
    if (counted > maxAccounts) return tooLarge(counted);

    const table = new MembershipTable(runId);
    let afterId = '';
    for (;;) {
      if (stale()) return null;
      const rows = await read(async (tx) => {
        const res = await tx.run(query(cypher, 'clusters/read-run-clusters-page'), {
          runId,
          afterId,
          limit: int(this.pageSize),
        });
        return res.records.map((r) => r.toObject() as Record<string, unknown>);
      });
      for (const row of rows) table.addCluster(summary(row));
      if (rows.length < this.pageSize) break;
      afterId = String(rows[rows.length - 1]!.id);
    }

    afterId = '';
    for (;;) {
      if (stale()) return null;
      const page = await read(async (tx) => {
        const res = await tx.run(query(cypher, 'accounts/read-account-memberships-page'), {
          runId,
          afterId,
          limit: int(this.pageSize),
        });
        const record = res.records[0];
        return {
          ids: (record?.get('ids') as string[] | undefined) ?? [],
          clusterIds: (record?.get('clusterIds') as string[] | undefined) ?? [],
        };
      });
      table.addAccounts(page.ids, page.clusterIds);
      if (table.size > maxAccounts) return tooLarge(table.size);
      if (page.ids.length < this.pageSize) break;
      afterId = page.ids[page.ids.length - 1]!;
    }
    table.seal();
    logger.info(
      {
        runId,
        accounts: table.size,
        clusters: table.clusters.length,
        ms: Date.now() - started,
      },
      'membership index: loaded',
    );
    return table;
  }
}
