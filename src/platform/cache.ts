/**
 * Small in-process caches for the analyst API. `LruCache` is a bounded Map in
 * least-recently-used order; `CurrentRun` knows which linkage run readers see
 * (the Pointer) and re-reads it at most once per `ttlMs`, so a cache keyed by
 * run id is dropped within a second of a publish without a query per request.
 * Caches are per replica and keyed by run id, so stateless replicas stay correct.
 */
import { type CypherMap, query } from './cypher';
import { AppError } from './errors';
import type { Logger } from './logger';
import type { Bookmarks, Database } from './neo4j';

export class LruCache<K, V> {
  private readonly map = new Map<K, V>();

  constructor(private readonly capacity: number) {}

  get(key: K): V | undefined {
    const value = this.map.get(key);
    if (value === undefined) return undefined;
    // Re-insert: Map keeps insertion order, so the oldest entry is always first.
    this.map.delete(key);
    this.map.set(key, value);
    return value;
  }

  set(key: K, value: V): void {
    if (this.capacity <= 0) return;
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.capacity) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
    }
  }

  clear(): void {
    this.map.clear();
  }

  get size(): number {
    return this.map.size;
  }
}

/** After a failed pointer read, the next is tried this soon (or at ttlMs if shorter). */
const FAILURE_BACKOFF_MS = 1000;

/**
 * The current run id (or null before the first publish), checked at most once per ttlMs.
 *
 * On a Neo4j cluster the pointer and the run's clusters and memberships may be read on
 * different servers, one behind another. So each pointer read starts from the bookmarks
 * of the one before, and `bookmarks()` hands them to the reads of the run it named:
 * those see the run at least as the pointer read saw it, never a state from before its
 * publish. The pointer's `version` (one up at every swap) guards the same way: a pointer
 * older than one already seen is ignored. On a single server neither changes anything.
 *
 * The pointer is read in one attempt bounded by `readTimeoutMs` (no 30 s of driver
 * retries while Neo4j is down). When that fails, `get()` answers the run last read (what
 * is held in memory for it, the membership index, still answers; other reads decide for
 * themselves) and reads the pointer again after at most FAILURE_BACKOFF_MS, those reads
 * going on behind: until one succeeds, `get()` answers at once. An outage is logged once
 * when it starts and once when it ends.
 */
export class CurrentRun {
  private runId: string | null = null;
  /** the pointer's version when runId was read (null: none read, or a pointer without one) */
  private version: number | null = null;
  /** a pointer read has succeeded: `runId` is a run that was current */
  private seen = false;
  private lastBookmarks: Bookmarks = [];
  private checkedAt = -Infinity;
  /**
   * The latest invalidate() generation in which a read began that `runId` is at least as
   * new as: getNow() waits for one begun at or after its call, set aside or not.
   */
  private freshGeneration = -1;
  /** the last pointer read's failure, while no read has succeeded since */
  private failure: { at: number; err: unknown } | undefined;
  /** the pointer read requests share, and the invalidate() generation it began in */
  private pending: { promise: Promise<string | null>; generation: number } | undefined;
  /** a pointer read still in flight after its bound: awaited again rather than doubled */
  private reading:
    { promise: Promise<{ value: Pointer; bookmarks: string[] }>; generation: number } | undefined;
  private generation = 0;
  private readonly listeners: ((runId: string | null) => void)[] = [];
  private readonly ttlMs: number;
  private readonly readTimeoutMs: number;
  private readonly now: () => number;
  private readonly logger: Logger | undefined;

  constructor(
    private readonly db: Database,
    private readonly cypher: CypherMap,
    opts: {
      /** how long a pointer read (or its failure) stands; default 1 s */
      ttlMs?: number;
      /** bound of one pointer read; default 2 s */
      readTimeoutMs?: number;
      now?: () => number;
      /** for the start and end of an outage */
      logger?: Logger;
    } = {},
  ) {
    this.ttlMs = opts.ttlMs ?? 1000;
    this.readTimeoutMs = opts.readTimeoutMs ?? 2000;
    this.now = opts.now ?? Date.now;
    this.logger = opts.logger;
  }

  /** Called with the new run id whenever the pointer is seen to move. */
  onChange(listener: (runId: string | null) => void): void {
    this.listeners.push(listener);
  }

  /**
   * The current run. When the pointer cannot be read, the run it named at the last read
   * that worked (the caller's own reads then decide, with the driver's retries), and
   * 503 database_unavailable only if none ever did. A failed read is tried again after
   * at most a second, not a whole ttlMs (which may be an hour). `maxAgeMs`: re-read if
   * the last read is older than this instead of ttlMs (the background check's, see
   * watchCurrentRun).
   */
  async get(maxAgeMs = this.ttlMs): Promise<string | null> {
    return this.read(maxAgeMs, false);
  }

  /** get(), but `wait`: for the read it starts or shares even while Neo4j is unreachable. */
  private async read(maxAgeMs: number, wait: boolean): Promise<string | null> {
    const now = this.now();
    if (now - this.checkedAt < maxAgeMs) return this.runId;
    if (this.failure && now - this.failure.at < Math.min(this.ttlMs, FAILURE_BACKOFF_MS)) {
      if (this.seen) return this.runId;
      throw this.failure.err;
    }
    // One pointer read at a time: concurrent requests share it, unless it began before
    // the last invalidate() (it may have read the pointer from before a swap).
    if (!this.pending || this.pending.generation !== this.generation) {
      const generation = this.generation;
      const promise: Promise<string | null> = this.refresh(generation).finally(() => {
        if (this.pending?.promise === promise) this.pending = undefined;
      });
      this.pending = { promise, generation };
    }
    // In an outage the run last read answers at once, its read going on behind: a Neo4j
    // that hangs rather than refuses would otherwise hold every lookup the index answers
    // for up to readTimeoutMs, again at each retry (review, 12-06).
    // Not after invalidate() (a publish here, or getNow()): that read is asked for anew.
    if (!wait && this.seen && this.failure && this.failure.at !== -Infinity) {
      this.pending.promise.catch(() => undefined);
      return this.runId;
    }
    return this.pending.promise.catch((err: unknown) => {
      if (this.seen) return this.runId;
      throw err;
    });
  }

  /**
   * The pointer read now, not at the last check: its error (503) when that read fails,
   * never the run last read, which the caller has just found wanting.
   */
  async getNow(): Promise<string | null> {
    this.invalidate();
    const asked = this.generation;
    // The read shared may have begun before this call (one set aside by this call's
    // invalidate() that had not finished yet): wait for one begun at or after it. A read
    // begun after it and set aside by a later call still counts.
    for (let tries = 1; ; tries++) {
      await this.read(this.ttlMs, true);
      if (this.failure) throw this.failure.err;
      if (this.freshGeneration >= asked) return this.runId;
      // No such read answered again and again (pointers without versions, whose set-aside
      // reads cannot be compared): not the run held, which may be the stale one the caller
      // asks past.
      if (tries === 4) {
        throw new AppError('database_unavailable', 'the current run could not be read anew');
      }
    }
  }

  /** The last pointer read failed (Neo4j unreachable, or slower than the bound). */
  get unreachable(): boolean {
    return this.failure !== undefined;
  }

  /**
   * The bookmarks of the last pointer read: a read of the run `get()` gave, started from
   * them, sees that run's clusters and memberships (see the class comment).
   */
  bookmarks(): Bookmarks {
    return this.lastBookmarks;
  }

  /** Forget what was read, or failed (a publish in this process calls it to switch at once). */
  invalidate(): void {
    this.generation++;
    this.checkedAt = -Infinity;
    if (this.failure) this.failure.at = -Infinity;
  }

  private async refresh(generation: number): Promise<string | null> {
    let read: { value: Pointer; bookmarks: string[] };
    try {
      read = await this.readPointer(generation);
    } catch (err) {
      if (!this.failure) {
        this.logger?.warn(
          { err, runId: this.runId },
          this.seen
            ? 'current run: the pointer cannot be read; membership lookups answer from memory for the run last read until it can'
            : 'current run: the pointer cannot be read',
        );
      }
      this.failure = { at: this.now(), err };
      throw err;
    }
    if (this.failure) {
      this.logger?.info({ runId: read.value.runId }, 'current run: the pointer can be read again');
      this.failure = undefined;
    }
    const { value, bookmarks } = read;
    if (generation !== this.generation) {
      // Begun before the last invalidate(): it may hold the pointer from before a swap, so
      // it is not the check that invalidate() asks for. But its callers' calls may have
      // begun after the swap committed (a client that saw the run succeed before this
      // process heard of it), so it is kept when known newer than the run held (its
      // bookmarks with it), or when none is held; else its callers get the run held,
      // known at least as new when both have versions.
      const newer = value.version !== null && this.version !== null && value.version > this.version;
      if (this.seen && !newer) {
        const asNew = value.version !== null && this.version !== null;
        if (asNew) this.freshGeneration = Math.max(this.freshGeneration, generation);
        return this.runId;
      }
    } else {
      this.checkedAt = this.now();
    }
    this.freshGeneration = Math.max(this.freshGeneration, generation);
    this.seen = true;
    // A pointer older than one already seen (a server behind the one read before): ignored,
    // and so are its bookmarks, which may be from before the run held.
    if (value.version !== null && this.version !== null && value.version < this.version) {
      return this.runId;
    }
    this.lastBookmarks = bookmarks;
    this.version = value.version;
    if (value.runId !== this.runId) {
      this.runId = value.runId;
      for (const listener of this.listeners) listener(value.runId);
    }
    return this.runId;
  }

  /** One attempt, given up on after readTimeoutMs (it may still finish for the next refresh). */
  private readPointer(generation: number): Promise<{ value: Pointer; bookmarks: string[] }> {
    if (this.reading?.generation !== generation) this.reading = undefined;
    this.reading ??= { generation, promise: this.readOnce() };
    return within(this.reading.promise, this.readTimeoutMs);
  }

  private readOnce(): Promise<{ value: Pointer; bookmarks: string[] }> {
    const promise = this.db
      .readOnceBookmarked(
        async (tx) => {
          const res = await tx.run(query(this.cypher, 'clusters/read-current-run'));
          const record = res.records[0];
          return {
            runId: (record?.get('runId') as string | null | undefined) ?? null,
            version: toVersion(record?.get('version')),
          };
        },
        { timeoutMs: this.readTimeoutMs, bookmarks: this.lastBookmarks },
      )
      .finally(() => {
        if (this.reading?.promise === promise) this.reading = undefined;
      });
    return promise;
  }
}

interface Pointer {
  runId: string | null;
  version: number | null;
}

/**
 * `promise`, or `late()` (by default 503 database_unavailable) once `ms` have passed
 * without its answer.
 */
export function within<T>(
  promise: Promise<T>,
  ms: number,
  late: () => Error = () =>
    new AppError('database_unavailable', `Neo4j did not answer within ${ms} ms`),
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(late()), ms);
    timer.unref();
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/** The pointer's version as a number (a plain number or a driver Integer), null when absent. */
function toVersion(value: unknown): number | null {
  if (typeof value === 'number') return value;
  if (value !== null && typeof value === 'object' && 'toNumber' in value) {
    return (value as { toNumber(): number }).toNumber();
  }
  return null;
}
