/**
 * How analysts' queries (ad-hoc Cypher and saved investigations) run: in one read
 * transaction with the time limit and no retries (a query that fills Neo4j's memory
 * fails once, it is not run again for 30 s), at most `QUERY_MAX_CONCURRENT` at a time
 * per process and `QUERY_MAX_CONCURRENT_PER_KEY` of them per API key, and with both a row cap and a byte cap on what is kept (execute.ts).
 * Records are pulled one at a time, so millions of rows are not built in memory; one
 * huge row is decoded whole by the driver, so with connection options (the service)
 * each query runs in a worker thread with a heap limit (query-workers.ts).
 */
import type { Context } from '../context';
import { AppError } from '../platform/errors';
import { executeQuery, type Caps, type CappedRows, type QuerySpec } from './execute';
import { QueryWorkers } from './query-workers';

export { runCapped, type Caps, type CappedRows, type QuerySpec } from './execute';

/**
 * Records the driver pulls per request. Neo4j sends a whole batch however large its
 * records are, so a batch of n can bring up to n - 1 records past the one that crosses
 * the byte cap; with one, the driver asks for one record ahead and no more. It costs a round trip
 * to Neo4j per record.
 */
const FETCH_SIZE = 1;

/** One of `QUERY_MAX_CONCURRENT`, held from before a query is audited until it ends. */
export interface Slot {
  /** One read transaction, no retries, with the caps from config. */
  run(spec: QuerySpec): Promise<CappedRows>;
  /** Frees it; a second call does nothing. */
  release(): void;
}

export class AnalystQueries {
  private running = 0;
  /** Slots held per API key (by name); a key with none has no entry. */
  private readonly byKey = new Map<string, number>();
  /** Without connection options (unit tests' fake drivers) queries run on this thread. */
  private readonly workers: QueryWorkers | undefined;

  constructor(private readonly ctx: Context) {
    const { db, config } = ctx;
    this.workers = db.connection
      ? new QueryWorkers(db, db.connection, config.QUERY_WORKER_HEAP_MB, ctx.logger)
      : undefined;
  }

  /**
   * Takes a slot for `key` (the API key's name), or throws 429 too_many_queries when
   * every slot is taken or the key holds its share. Taken before the query's audit entry
   * is written, so requests past the limit never start one while others' entries are
   * being written, and each refusal is one audit write (which the 429 waits for).
   */
  reserve(key: string): Slot {
    const max = this.ctx.config.QUERY_MAX_CONCURRENT;
    const perKey = this.ctx.config.QUERY_MAX_CONCURRENT_PER_KEY;
    const mine = this.byKey.get(key) ?? 0;
    if (mine >= perKey) {
      throw new AppError(
        'too_many_queries',
        `this key already has ${mine} analyst queries running (at most ${perKey} per key); retry when one ends`,
        { details: { scope: 'key', limit: perKey } },
      );
    }
    if (this.running >= max) {
      throw new AppError(
        'too_many_queries',
        `${max} analyst queries are already running; retry when one ends`,
        { details: { scope: 'process', limit: max } },
      );
    }
    this.running++;
    this.byKey.set(key, mine + 1);
    const free = () => {
      this.running--;
      const left = (this.byKey.get(key) ?? 1) - 1;
      if (left > 0) this.byKey.set(key, left);
      else this.byKey.delete(key);
    };
    let held = true;
    // A query the deadline gave up on keeps its slot until Neo4j has ended it.
    let ended: Promise<void> | undefined;
    const { db, config } = this.ctx;
    const caps: Caps = { maxRows: config.QUERY_MAX_ROWS, maxBytes: config.QUERY_MAX_BYTES };
    const opts = {
      timeoutMs: config.QUERY_TIMEOUT_MS,
      fetchSize: FETCH_SIZE,
      onGivenUp: (gone: Promise<void>) => {
        ended = gone;
      },
    };
    return {
      run: (spec) =>
        this.workers
          ? this.workers.run(spec, caps, opts)
          : db.readOnce((tx) => executeQuery(tx, spec, caps), opts),
      release: () => {
        if (!held) return;
        held = false;
        if (ended) void ended.then(free);
        else free();
      },
    };
  }
}
