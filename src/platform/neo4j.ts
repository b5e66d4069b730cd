/**
 * The one place that knows neo4j-driver: creating the driver from config,
 * running managed read/write transactions, converting Neo4j values to plain
 * JSON, and turning driver failures into AppErrors with stable codes.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import neo4j, {
  type Driver,
  type ManagedTransaction,
  type Session,
  Neo4jError,
  isDate,
  isDateTime,
  isDuration,
  isInt,
  isLocalDateTime,
  isLocalTime,
  isNode,
  isPath,
  isPoint,
  isRelationship,
  isTime,
} from 'neo4j-driver';
import { AppError } from './errors';
import { enableTcpNoDelay } from './tcp-nodelay';

export type { Driver, ManagedTransaction };

/** What a query needs from a transaction, managed or explicit. */
export type QueryRunner = Pick<ManagedTransaction, 'run'>;

/**
 * Bookmarks a read session ended with. A session given them reads a state at least
 * that new: on a cluster (`neo4j://`) a secondary that has not caught up waits until
 * it has, so reads chained this way never see the database go back. A single server
 * is always that new.
 */
export type Bookmarks = readonly string[];

/** What a piece of work that only reads needs of a Database (or of a chainedReader). */
export interface Reader {
  read<T>(work: (tx: ManagedTransaction) => Promise<T>, timeoutMs?: number): Promise<T>;
}

export interface DriverOptions {
  uri: string;
  user: string;
  password: string;
  database?: string;
}

export function createDriver(opts: DriverOptions, exactIntegers = false): Driver {
  enableTcpNoDelay();
  return neo4j.driver(opts.uri, neo4j.auth.basic(opts.user, opts.password), {
    // Fail fast when the database is gone so callers get a 503, not a hung request.
    connectionAcquisitionTimeout: 10_000,
    connectionTimeout: 5_000,
    maxTransactionRetryTime: 30_000,
    // Counts and epoch-ms times are far below 2^53: plain numbers spare extract
    // millions of Integer objects (it was half its CPU at 1M accounts). Analysts'
    // queries may return any integer: their driver keeps them exact (`exactIntegers`).
    disableLosslessIntegers: !exactIntegers,
    userAgent: 'coterie',
  });
}

/** A Database that remembers how it was opened (linkage compute reopens it in a worker). */
export function openDatabase(connection: DriverOptions): Database {
  return new Database(createDriver(connection), connection.database, connection);
}

/**
 * How long past its time limit an analyst's query may run before the service gives up on
 * it (504) and terminates its worker thread: Neo4j ends a query at the limit on its side,
 * so this only passes when the client side is stuck.
 */
export const QUERY_DEADLINE_GRACE_MS = 2_000;

export class Database {
  private readonly closers: (() => Promise<void>)[] = [];
  private closed = false;

  /**
   * `connection`: how `driver` was made, for work that opens its own driver in a
   * worker thread (linkage compute); without it that work runs on this thread.
   */
  constructor(
    readonly driver: Driver,
    readonly database?: string,
    readonly connection?: DriverOptions,
  ) {}

  /**
   * Runs `work` in a managed write transaction. The driver runs it again on transient
   * errors, also after a commit whose answer was lost but which went through, so `work`
   * must be idempotent: ids made outside it, MERGE on them rather than CREATE.
   */
  async write<T>(work: (tx: ManagedTransaction) => Promise<T>): Promise<T> {
    const session = this.driver.session({
      database: this.database,
      defaultAccessMode: neo4j.session.WRITE,
    });
    try {
      return await session.executeWrite(noRetryPastMemoryLimit(work));
    } catch (err) {
      throw toAppError(err);
    } finally {
      await session.close();
    }
  }

  /** `bookmarks`: start from at least the state an earlier read saw (see Bookmarks). */
  async read<T>(
    work: (tx: ManagedTransaction) => Promise<T>,
    timeoutMs?: number,
    bookmarks?: Bookmarks,
  ): Promise<T> {
    return (await this.readBookmarked(work, timeoutMs, bookmarks)).value;
  }

  /**
   * Reads that each start from the bookmarks the one before ended with, so on a cluster
   * none is answered from an older state than an earlier one saw (a linkage run's
   * extract: its count, pages and allow-list). Reads made one after another, not at once.
   */
  chainedReader(): Reader {
    let bookmarks: Bookmarks = [];
    return {
      read: async (work, timeoutMs) => {
        const read = await this.readBookmarked(work, timeoutMs, bookmarks);
        bookmarks = read.bookmarks;
        return read.value;
      },
    };
  }

  private async readBookmarked<T>(
    work: (tx: ManagedTransaction) => Promise<T>,
    timeoutMs: number | undefined,
    bookmarks: Bookmarks | undefined,
  ): Promise<{ value: T; bookmarks: string[] }> {
    const session = this.driver.session({
      database: this.database,
      defaultAccessMode: neo4j.session.READ,
      bookmarks: bookmarks?.length ? [...bookmarks] : undefined,
    });
    try {
      const value = await session.executeRead(
        noRetryPastMemoryLimit(work),
        timeoutMs ? { timeout: timeoutMs } : undefined,
      );
      return { value, bookmarks: session.lastBookmarks() };
    } catch (err) {
      throw toAppError(err);
    } finally {
      await session.close();
    }
  }

  /**
   * A write transaction retried as the driver would (errors it deems retriable: a leader
   * switch, a dead pooled connection, a transient error), but only within `budgetMs`, not
   * its 30 s: for a record whose loss is already logged elsewhere and whose caller must
   * not wait out the driver's backoff while Neo4j is away (the audit trail's own
   * entries). Each attempt is bounded by `timeoutMs` on the server. `work` may run more
   * than once after a commit whose answer was lost: it must be idempotent.
   */
  async writeBriefly<T>(
    work: (tx: QueryRunner) => Promise<T>,
    opts: { timeoutMs: number; budgetMs: number },
  ): Promise<T> {
    const started = Date.now();
    for (let backoffMs = 100; ; backoffMs *= 2) {
      const session = this.driver.session({
        database: this.database,
        defaultAccessMode: neo4j.session.WRITE,
      });
      try {
        return await attempt(session, work, opts.timeoutMs);
      } catch (err) {
        const cause = err instanceof AppError ? err.cause : err;
        const retriable = cause instanceof Neo4jError && neo4j.isRetriableError(cause);
        if (!retriable || Date.now() - started + backoffMs > opts.budgetMs) throw err;
        await new Promise((r) => setTimeout(r, backoffMs));
      }
    }
  }

  /**
   * One read transaction, one attempt (no retries: for a read whose caller has an answer
   * to fall back on, and wants it now rather than after 30 s of backoff), in a session
   * started from `bookmarks`; gives the bookmarks it ended with, for the reads after it.
   */
  async readOnceBookmarked<T>(
    work: (tx: QueryRunner) => Promise<T>,
    opts: { timeoutMs: number; bookmarks?: Bookmarks },
  ): Promise<{ value: T; bookmarks: string[] }> {
    const session = this.driver.session({
      database: this.database,
      defaultAccessMode: neo4j.session.READ,
      bookmarks: opts.bookmarks?.length ? [...opts.bookmarks] : undefined,
    });
    const value = await attempt(session, work, opts.timeoutMs);
    return { value, bookmarks: session.lastBookmarks() };
  }

  /**
   * One read transaction, one attempt: for analysts' queries, where a retry after a
   * timeout or Neo4j running out of memory would only repeat the harm, on this thread
   * (without connection options; the service runs them in worker threads,
   * cypher-console/query-workers.ts, and keeps the same deadline there). `fetchSize` is
   * how many records the driver pulls at a time. Given up on at timeoutMs +
   * QUERY_DEADLINE_GRACE_MS with 504: Neo4j's time limit ends a query on the server,
   * not a connection stuck in the client (found by review: the driver overflowed its
   * stack decoding a deeply nested list and never read again).
   */
  async readOnce<T>(
    work: (tx: QueryRunner) => Promise<T>,
    opts: {
      timeoutMs: number;
      fetchSize?: number;
      /** told, when the deadline gives the query up, when Neo4j has ended it (transactionGone) */
      onGivenUp?: (ended: Promise<void>) => void;
    },
  ): Promise<T> {
    const session = this.driver.session({
      database: this.database,
      defaultAccessMode: neo4j.session.READ,
      fetchSize: opts.fetchSize,
    });
    let timer: NodeJS.Timeout | undefined;
    const tag = randomUUID();
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        opts.onGivenUp?.(this.transactionGone(tag));
        reject(new AppError('query_timeout', 'the query ran past its time limit'));
      }, opts.timeoutMs + QUERY_DEADLINE_GRACE_MS);
    });
    try {
      return await Promise.race([
        attempt(session, work, opts.timeoutMs, { [QUERY_TAG]: tag }),
        deadline,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Resolves once Neo4j lists no transaction tagged `tag` (asked every second). A query
   * given up on may still compute in Neo4j: an expression the time limit cannot stop runs
   * on after its connection is closed (README, Known limits: Time), and its slot stays
   * taken until it ends, so QUERY_MAX_CONCURRENT still bounds how many run there.
   * `GONE_AFTER_FAILED_CHECKS` failed checks in a row (Neo4j away, which ends its
   * transactions too) count as ended; one failed check (a busy pool) does not free the
   * slot of an expression still computing. On a cluster the check asks one server, which
   * may not be the one that ran the query.
   */
  async transactionGone(
    tag: string,
    everyMs = 1_000,
    checkTimeoutMs = CHECK_TIMEOUT_MS,
  ): Promise<void> {
    let failed = 0;
    while (!this.closed) {
      // Unreferenced: a poll alone must not keep a process alive.
      await delay(everyMs, undefined, { ref: false });
      const session = this.driver.session({ database: this.database });
      let timer: NodeJS.Timeout | undefined;
      try {
        // A Neo4j that takes the connection and never answers: a failed check, not a wait
        // as long as TCP's (minutes) with the slot held.
        const unanswered = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('no answer')), checkTimeoutMs);
        });
        const res = await Promise.race([
          session.run(
            `SHOW TRANSACTIONS YIELD metaData WHERE metaData.${QUERY_TAG} = $tag RETURN count(*) AS n`,
            { tag },
          ),
          unanswered,
        ]);
        if (Number(res.records[0]?.get('n') ?? 0) === 0) return;
        failed = 0;
      } catch {
        if (++failed >= GONE_AFTER_FAILED_CHECKS) return;
      } finally {
        clearTimeout(timer);
        // Not awaited: closing a session whose answer never came may not end either.
        void session.close().catch(() => undefined);
      }
    }
  }

  /** One attempt, no retries: a readiness probe must answer in seconds, not after 30 s of backoff. */
  async ping(): Promise<void> {
    const session = this.driver.session({
      database: this.database,
      defaultAccessMode: neo4j.session.READ,
    });
    try {
      await session.run('RETURN 1');
    } catch (err) {
      throw toAppError(err);
    } finally {
      await session.close();
    }
  }

  /** Called (and awaited) by close(), before the drivers close: what holds this database's connections. */
  onClose(closer: () => Promise<void>): void {
    this.closers.push(closer);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.closers.map((c) => c().catch(() => undefined)));
    await this.driver.close();
  }
}

/** Failed checks in a row after which transactionGone takes a query for ended. */
export const GONE_AFTER_FAILED_CHECKS = 3;
/** How long one of its checks may go unanswered before it counts as failed. */
const CHECK_TIMEOUT_MS = 5_000;

/** The metadata key an analyst query's transaction carries its tag under (transactionGone). */
const QUERY_TAG = 'coterieQuery';

/**
 * One read transaction, one attempt, on `driver`, tagged `tag` for transactionGone: an
 * analyst query in its worker thread, whose deadline the main thread keeps.
 */
export function readOnceOn<T>(
  driver: Driver,
  work: (tx: QueryRunner) => Promise<T>,
  opts: { database?: string; timeoutMs: number; fetchSize?: number; tag: string },
): Promise<T> {
  const session = driver.session({
    database: opts.database,
    defaultAccessMode: neo4j.session.READ,
    fetchSize: opts.fetchSize,
  });
  return attempt(session, work, opts.timeoutMs, { [QUERY_TAG]: opts.tag });
}

/**
 * One explicit transaction in `session`, no retries: committed, or rolled back on
 * failure; the session is closed either way (its bookmarks stay readable after).
 */
async function attempt<T>(
  session: Session,
  work: (tx: QueryRunner) => Promise<T>,
  timeoutMs: number,
  metadata?: Record<string, string>,
): Promise<T> {
  try {
    const tx = await session.beginTransaction({ timeout: timeoutMs, metadata });
    try {
      const value = await work(tx);
      await tx.commit();
      return value;
    } catch (err) {
      if (tx.isOpen()) await tx.rollback().catch(() => undefined);
      throw err;
    }
  } catch (err) {
    throw toAppError(err);
  } finally {
    await session.close();
  }
}

/** The driver's codes, and the server's for a database not (yet) serving: a restart. */
const UNAVAILABLE = new Set([
  'ServiceUnavailable',
  'SessionExpired',
  'Neo.TransientError.General.DatabaseUnavailable',
]);

/** Neo4j refusing the service (its credentials, or writes): what the caller is told. */
const REFUSALS = new Map([
  ['Neo.ClientError.Security.Unauthorized', "Neo4j refuses the service's credentials"],
  ['Neo.ClientError.Security.CredentialsExpired', "the service's Neo4j password has expired"],
  [
    'Neo.ClientError.General.ForbiddenOnReadOnlyDatabase',
    'Neo4j refuses writes: the database is read-only',
  ],
]);

/**
 * One transaction's tracked memory past db.memory.transaction.max: the work itself is too
 * big and would fail again. (The total of all transactions, dbms.memory.transaction.total
 * .max, has the same code with that setting named: busy, worth a retry.)
 */
function isPastTransactionMemoryLimit(err: unknown): boolean {
  return (
    err instanceof Neo4jError &&
    err.code === 'Neo.TransientError.General.MemoryPoolOutOfMemoryError' &&
    err.message.includes('db.memory.transaction.max')
  );
}

function memoryLimitError(err: Neo4jError, message: string): AppError {
  return new AppError('query_memory_limit', message, {
    cause: err,
    // Neo4j's own text (sizes, settings) goes to the log (errorHandler), not the caller.
    details: { neo4jCode: err.code },
  });
}

/**
 * The driver retries a transient error for up to 30 s, and Neo4j calls a transaction past
 * its own memory limit transient; the same work would fill the same memory each time.
 * Thrown as an AppError inside the transaction function, it is not retried.
 */
function noRetryPastMemoryLimit<T>(
  work: (tx: ManagedTransaction) => Promise<T>,
): (tx: ManagedTransaction) => Promise<T> {
  return async (tx) => {
    try {
      return await work(tx);
    } catch (err) {
      if (!isPastTransactionMemoryLimit(err)) throw err;
      throw memoryLimitError(
        err as Neo4jError,
        'the work needs more memory than one transaction may use in Neo4j ' +
          '(db.memory.transaction.max); give Neo4j a larger heap, or for `coterie import` ' +
          'lower IMPORT_PART_ROWS',
      );
    }
  };
}

/** Transient errors the driver re-files as Neo.ClientError.* (response-handler.js). */
export const ENDED_UNDER_IT = new Set([
  'Neo.ClientError.Transaction.Terminated',
  'Neo.ClientError.Transaction.LockClientStopped',
]);

/** System error codes of a socket that cannot reach, or lost, its server. */
const SOCKET_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

export function toAppError(err: unknown): unknown {
  if (err instanceof AppError) return err;
  if (err instanceof Neo4jError) {
    if (
      UNAVAILABLE.has(err.code) ||
      err.code === 'Neo.ClientError.Security.AuthenticationRateLimit'
    ) {
      return new AppError('database_unavailable', 'Neo4j is unreachable', { cause: err });
    }
    // Neo4j up but refusing the service itself: not the request's fault, nor a bug (500);
    // an operator's to mend (README, Operations).
    const refusal = REFUSALS.get(err.code);
    if (refusal) return new AppError('database_unavailable', refusal, { cause: err });
    if (
      err.code === 'Neo.ClientError.Transaction.TransactionTimedOut' ||
      err.code.endsWith('TransactionTimedOutClientConfiguration')
    ) {
      return new AppError('query_timeout', 'the query ran past its time limit', { cause: err });
    }
    if (isPastTransactionMemoryLimit(err)) {
      return memoryLimitError(
        err,
        'the query needs more memory than one transaction may use in Neo4j ' +
          '(db.memory.transaction.max); make it hold less at once: fewer rows into ' +
          'collect(), ORDER BY, DISTINCT or aggregations, or a LIMIT earlier',
      );
    }
    // Deadlocks, lock timeouts and the like that outlasted the driver's retries, and a
    // transaction ended under it (TERMINATE TRANSACTION, Neo4j stopping), which the
    // driver files as a client error though it is none (review, 12-05: a 500, and in the
    // console a 400 that blamed the analyst).
    if (err.code.startsWith('Neo.TransientError.') || ENDED_UNDER_IT.has(err.code)) {
      return new AppError('database_busy', `Neo4j is busy (${err.code}); retry later`, {
        cause: err,
      });
    }
  }
  // The driver's own failures (its pool's "acquisition timed out" and "Pool is closed"
  // are Neo4jErrors with code N/A), by their text; not a status from the server (code
  // Neo.*): its syntax errors quote the query, and CONNECTED_FROM would match "connect".
  // Other errors only by a socket's error code: a file error's text may name a file such
  // as kafka-connect.jsonl (review, 12-05: an ENOENT on it read as Neo4j unreachable).
  const unreachable =
    err instanceof Neo4jError
      ? !err.code.startsWith('Neo.') &&
        /ECONNREFUSED|connect|Pool is closed|acquisition timed out/i.test(err.message)
      : err instanceof Error && SOCKET_ERRORS.has(String((err as NodeJS.ErrnoException).code));
  if (unreachable) {
    return new AppError('database_unavailable', 'Neo4j is unreachable', { cause: err });
  }
  return err;
}

/**
 * Deepest value toPlain converts: past it, 422 result_too_deep, before the recursion here
 * or JSON.stringify runs out of stack (a RangeError, a 500 before 12-03). Deeper still, the
 * driver's own decoding overflows (in an analyst query's worker thread, whose deadline
 * covers that: query-workers.ts).
 */
export const VALUE_MAX_DEPTH = 1_000;

/** 422 result_too_deep: a value past VALUE_MAX_DEPTH, or one that ran out of stack (`cause`). */
export function resultTooDeep(cause?: unknown): AppError {
  return new AppError('result_too_deep', 'the result is nested too deeply to return', {
    details: { maxDepth: VALUE_MAX_DEPTH },
    cause,
  });
}

/**
 * Neo4j values (Integers, temporals, nodes, relationships, paths) as plain JSON. JSON has no
 * NaN or ±Infinity (JSON.stringify writes null, which is another Cypher value): they are the
 * strings "NaN", "Infinity", "-Infinity", as big integers are strings.
 */
export function toPlain(value: unknown, depth = 0): unknown {
  if (value === null || value === undefined) return value ?? null;
  if (depth > VALUE_MAX_DEPTH) throw resultTooDeep();
  const inner = (v: unknown) => toPlain(v, depth + 1);
  if (isInt(value)) return value.inSafeRange() ? value.toNumber() : value.toString();
  if (typeof value === 'bigint') {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  if (
    isDateTime(value) ||
    isDate(value) ||
    isTime(value) ||
    isLocalDateTime(value) ||
    isLocalTime(value) ||
    isDuration(value)
  ) {
    return value.toString();
  }
  if (isPoint(value))
    return { srid: inner(value.srid), x: value.x, y: value.y, z: value.z ?? null };
  if (isNode(value)) {
    return {
      elementId: value.elementId,
      labels: value.labels,
      properties: inner(value.properties),
    };
  }
  if (isRelationship(value)) {
    return {
      elementId: value.elementId,
      type: value.type,
      start: value.startNodeElementId,
      end: value.endNodeElementId,
      properties: inner(value.properties),
    };
  }
  if (isPath(value)) {
    return {
      start: inner(value.start),
      end: inner(value.end),
      segments: value.segments.map((s) => ({
        start: inner(s.start),
        relationship: inner(s.relationship),
        end: inner(s.end),
      })),
    };
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (Array.isArray(value)) return value.map(inner);
  // A Cypher byte array arrives as an Int8Array: a list of its bytes, not {"0": …}.
  if (ArrayBuffer.isView(value)) return Array.from(value as Int8Array);
  if (typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, inner(v)]));
  }
  return value;
}

/** One record's fields as a plain object. */
export function recordToPlain(record: {
  keys: readonly PropertyKey[];
  get(key: PropertyKey): unknown;
}): Record<string, unknown> {
  return Object.fromEntries(record.keys.map((k) => [String(k), toPlain(record.get(k))]));
}

/** A Neo4j integer (or plain number) as a JS number. */
export function toNumber(value: unknown): number {
  if (isInt(value)) return value.toNumber();
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number') return value;
  throw new Error(`expected a number, got ${typeof value}`);
}

/** Integer-valued parameters must go as Neo4j integers, or Cypher sees floats. */
export function int(n: number) {
  return neo4j.int(n);
}
