/**
 * Small in-process caches for the analyst API. `LruCache` is a bounded Map in
 * least-recently-used order; `CurrentRun` knows which linkage run readers see
 * (the Pointer) and re-reads it at most once per `ttlMs`, so a cache keyed by
 * run id is dropped within a second of a publish without a query per request.
 * Caches are per replica and keyed by run id, so stateless replicas stay correct.
 */
import { type CypherMap, query } from './cypher';
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

/**
 * The current run id (or null before the first publish), checked at most once per ttlMs.
 *
 * On a Neo4j cluster the pointer and the run's clusters and memberships may be read on
 * different servers, one behind another. So each pointer read starts from the bookmarks
 * of the one before, and `bookmarks()` hands them to the reads of the run it named:
 * those see the run at least as the pointer read saw it, never a state from before its
 * publish. The pointer's `version` (one up at every swap) guards the same way: a pointer
 * older than one already seen is ignored. On a single server neither changes anything.
 */
export class CurrentRun {
  private runId: string | null = null;
  /** the pointer's version when runId was read (null: none read, or a pointer without one) */
  private version: number | null = null;
  private lastBookmarks: Bookmarks = [];
  private checkedAt = -Infinity;
  private pending: Promise<string | null> | undefined;
  private readonly listeners: ((runId: string | null) => void)[] = [];

  constructor(
    private readonly db: Database,
    private readonly cypher: CypherMap,
    private readonly ttlMs = 1000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Called with the new run id whenever the pointer is seen to move. */
  onChange(listener: (runId: string | null) => void): void {
    this.listeners.push(listener);
  }

  async get(): Promise<string | null> {
    if (this.now() - this.checkedAt < this.ttlMs) return this.runId;
    // One pointer read at a time: concurrent requests share it.
    this.pending ??= this.refresh().finally(() => (this.pending = undefined));
    return this.pending;
  }

  /**
   * The bookmarks of the last pointer read: a read of the run `get()` gave, started from
   * them, sees that run's clusters and memberships (see the class comment).
   */
  bookmarks(): Bookmarks {
    return this.lastBookmarks;
  }

  /** Forget what was read (a publish in this process calls it for an immediate switch). */
  invalidate(): void {
    this.checkedAt = -Infinity;
  }

  private async refresh(): Promise<string | null> {
    const { value, bookmarks } = await this.db.readBookmarked(
      async (tx) => {
        const res = await tx.run(query(this.cypher, 'clusters/read-current-run'));
        const record = res.records[0];
        return {
          runId: (record?.get('runId') as string | null | undefined) ?? null,
          version: toVersion(record?.get('version')),
        };
      },
      { bookmarks: this.lastBookmarks },
    );
    this.lastBookmarks = bookmarks;
    this.checkedAt = this.now();
    // A pointer older than one already seen (a server behind the one read before): ignored.
    if (value.version !== null && this.version !== null && value.version < this.version) {
      return this.runId;
    }
    this.version = value.version;
    if (value.runId !== this.runId) {
      this.runId = value.runId;
      for (const listener of this.listeners) listener(value.runId);
    }
    return this.runId;
  }
}

/** The pointer's version as a number (a plain number or a driver Integer), null when absent. */
function toVersion(value: unknown): number | null {
  if (typeof value === 'number') return value;
  if (value !== null && typeof value === 'object' && 'toNumber' in value) {
    return (value as { toNumber(): number }).toNumber();
  }
  return null;
}
