/**
 * Writes a batch of clean events to Neo4j in ONE transaction: drop events whose
 * idempotency key is already stored, aggregate the rest, lock the accounts in id
 * order, then merge every aggregate with UNWIND … MERGE. The transaction function
 * is retried by the driver on transient errors (deadlocks, leader switches), and
 * a failed batch leaves nothing behind.
 */
import { randomUUID } from 'node:crypto';
import { type CypherMap, query } from '../platform/cypher';
import { Limiter } from '../platform/limiter';
import type { Database, ManagedTransaction } from '../platform/neo4j';
import { type BatchRows, type LinkRow, aggregate } from './aggregate';
import type { CleanEvent } from './event-schema';

export interface WriteResult {
  received: number;
  written: number;
  duplicates: number;
}

/** Optional work done inside the same transaction (the importer's checkpoint). */
export type AlsoInTx = (tx: ManagedTransaction, result: WriteResult) => Promise<void>;

const LINK_QUERIES = [
  ['payment', 'ingest/merge-payment-links'],
  ['device', 'ingest/merge-device-links'],
  ['ip', 'ingest/merge-ip-links'],
  ['prompt', 'ingest/merge-prompt-links'],
  ['emailDomain', 'ingest/merge-email-domain-links'],
  ['org', 'ingest/merge-org-links'],
] as const;

/**
 * The database work for one batch's aggregates: lock accounts, then merge each
 * kind of row. Exported so the ingest benchmark's bare reference runs exactly
 * the same statements.
 */
export async function writeRows(
  tx: ManagedTransaction,
  cypher: CypherMap,
  rows: BatchRows,
): Promise<void> {
  if (rows.accounts.length === 0) return;
  await tx.run(query(cypher, 'ingest/lock-accounts'), { ids: rows.accounts.map((a) => a.id) });
  await tx.run(query(cypher, 'ingest/merge-accounts'), { rows: rows.accounts });
  for (const [kind, key] of LINK_QUERIES) {
    const links = rows[kind];
    if (links.length === 0) continue;
    const params: Record<string, unknown> = { rows: links, values: distinctValues(links) };
    if (kind === 'ip') params.subnets = [...new Set(rows.ip.map((l) => l.subnet))].sort();
    await tx.run(query(cypher, key), params);
  }
  if (rows.models.length > 0)
    await tx.run(query(cypher, 'ingest/merge-model-use'), { rows: rows.models });
  if (rows.capabilities.length > 0) {
    await tx.run(query(cypher, 'ingest/merge-capabilities'), { rows: rows.capabilities });
  }
}

/** One entry per shared value, sorted, so every writer locks them in the same order. */
function distinctValues<T extends LinkRow>(links: readonly T[]): Omit<T, 'accountId' | 'count'>[] {
  const byValue = new Map<string, Omit<T, 'accountId' | 'count'>>();
  for (const { accountId: _a, count: _c, ...link } of links) {
    const seen = byValue.get(link.value);
    if (!seen) byValue.set(link.value, { ...link });
    else {
      seen.firstSeen = Math.min(seen.firstSeen, link.firstSeen);
      seen.lastSeen = Math.max(seen.lastSeen, link.lastSeen);
    }
  }
  return [...byValue.keys()].sort().map((v) => byValue.get(v) as Omit<T, 'accountId' | 'count'>);
}

export class EventWriter {
  private readonly limiter: Limiter;

  constructor(
    private readonly db: Database,
    private readonly cypher: CypherMap,
    maxConcurrentWrites = 2,
  ) {
    this.limiter = new Limiter(maxConcurrentWrites);
  }

  async write(events: readonly CleanEvent[], alsoInTx?: AlsoInTx): Promise<WriteResult> {
    return this.limiter.run(() => this.writeNow(events, alsoInTx));
  }

  private async writeNow(events: readonly CleanEvent[], alsoInTx?: AlsoInTx): Promise<WriteResult> {
    return this.db.write(async (tx) => {
      const fresh = await this.dropStored(tx, events);
      const result = {
        received: events.length,
        written: fresh.length,
        duplicates: events.length - fresh.length,
      };
      await writeRows(tx, this.cypher, aggregate(fresh));
      if (alsoInTx) await alsoInTx(tx, result);
      return result;
    });
  }

  private async dropStored(
    tx: ManagedTransaction,
    events: readonly CleanEvent[],
  ): Promise<CleanEvent[]> {
    // A key repeated inside one batch counts once: only its first event is kept.
    const firstWithId = new Map<string, CleanEvent>();
    for (const e of events)
      if (e.id !== undefined && !firstWithId.has(e.id)) firstWithId.set(e.id, e);
    if (firstWithId.size === 0) return [...events];
    const res = await tx.run(query(this.cypher, 'ingest/merge-event-ids'), {
      ids: [...firstWithId.keys()],
      token: randomUUID(),
      now: Date.now(),
    });
    const freshIds = new Set(
      res.records.filter((r) => r.get('fresh') === true).map((r) => r.get('id') as string),
    );
    return events.filter(
      (e) => e.id === undefined || (freshIds.has(e.id) && firstWithId.get(e.id) === e),
    );
  }
}
