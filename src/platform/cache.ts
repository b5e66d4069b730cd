/**
 * Small in-process caches for the analyst API. `LruCache` is a bounded Map in
 * least-recently-used order; `CurrentRun` knows which linkage run readers see
 * (the Pointer) and re-reads it at most once per `ttlMs`, so a cache keyed by
 * run id is dropped within a second of a publish without a query per request.
 * Caches are per replica and keyed by run id, so stateless replicas stay correct.
 */
import { type CypherMap, query } from './cypher';
import type { Database } from './neo4j';

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

/** The current run id (or null before the first publish), checked at most once per ttlMs. */
export class CurrentRun {
  private runId: string | null = null;
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

  /** Forget what was read (a publish in this process can call it for an immediate switch). */
  invalidate(): void {
    this.checkedAt = -Infinity;
  }

  private async refresh(): Promise<string | null> {
    const runId = await this.db.read(async (tx) => {
      const res = await tx.run(query(this.cypher, 'clusters/read-current-run'));
      return (res.records[0]?.get('runId') as string | null | undefined) ?? null;
    });
    this.checkedAt = this.now();
    if (runId !== this.runId) {
      this.runId = runId;
      for (const listener of this.listeners) listener(runId);
    }
    return runId;
  }
}
