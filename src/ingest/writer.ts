/**
 * Writes a batch of clean events to Neo4j in ONE transaction: drop events whose
 * idempotency key is already stored, fold the rest, merge the accounts in id
 * order (which takes their locks), then merge every aggregate with UNWIND … MERGE
 * in statements of at most STATEMENT_ROWS rows. The transaction function is
 * retried by the driver on transient errors (deadlocks, leader switches), and a
 * failed batch leaves nothing behind.
 */
import { randomUUID } from 'node:crypto';
import { type CypherMap, query } from '../platform/cypher';
import { Limiter } from '../platform/limiter';
import type { Database, ManagedTransaction } from '../platform/neo4j';
import { Aggregator, type BatchRows, type LinkRow } from './aggregate';
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

/** Rows per statement: keeps each Bolt message and query's working set modest. */
const STATEMENT_ROWS = 20_000;

/**
 * The database work for one batch's aggregates: accounts first (in id order,
 * taking their locks), then each kind of row. Shared values are merged, in value
 * order, with the first statement of their kind, so concurrent writers lock them
 * in one global order however the rows are split. Exported so the ingest
 * benchmark's bare reference runs exactly the same statements.
 */
export async function writeRows(
  tx: ManagedTransaction,
  cypher: CypherMap,
  rows: BatchRows,
): Promise<void> {
  if (rows.accounts.length === 0) return;
  for (const part of chunks(rows.accounts)) {
    await tx.run(query(cypher, 'ingest/merge-accounts'), { rows: part });
  }
  for (const [kind, key] of LINK_QUERIES) {
    const links = rows[kind];
    let params: Record<string, unknown> = { values: distinctValues(links) };
    if (kind === 'ip') params.subnets = [...new Set(rows.ip.map((l) => l.subnet))].sort();
    for (const part of chunks(links)) {
      await tx.run(query(cypher, key), { ...params, rows: part });
      params = { values: [], subnets: [] };
    }
  }
  for (const part of chunks(rows.models)) {
    await tx.run(query(cypher, 'ingest/merge-model-use'), { rows: part });
  }
  for (const part of chunks(rows.capabilities)) {
    await tx.run(query(cypher, 'ingest/merge-capabilities'), { rows: part });
  }
}

function chunks<T>(rows: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += STATEMENT_ROWS) out.push(rows.slice(i, i + STATEMENT_ROWS));
  return out;
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

/**
 * Events ready to write as one transaction: those without an idempotency key
 * already folded, those with one kept aside until the transaction has checked
 * which keys are new. The importer fills one per window of the file.
 */
export class PendingBatch {
  readonly folded = new Aggregator();
  readonly keyed: CleanEvent[] = [];
  events = 0;

  add(e: CleanEvent): void {
    this.events++;
    if (e.id === undefined) this.folded.add(e);
    else this.keyed.push(e);
  }
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
    const batch = new PendingBatch();
    for (const e of events) batch.add(e);
    return this.writeBatch(batch, alsoInTx);
  }

  async writeBatch(batch: PendingBatch, alsoInTx?: AlsoInTx): Promise<WriteResult> {
    return this.limiter.run(() =>
      this.db.write(async (tx) => {
        const fresh = await this.dropStored(tx, batch.keyed);
        const result = {
          received: batch.events,
          written: batch.events - batch.keyed.length + fresh.length,
          duplicates: batch.keyed.length - fresh.length,
        };
        // A retried attempt must start from the same fold: fold into a copy.
        let folded = batch.folded;
        if (fresh.length > 0) {
          folded = folded.clone();
          for (const e of fresh) folded.add(e);
        }
        await writeRows(tx, this.cypher, folded.rows());
        if (alsoInTx) await alsoInTx(tx, result);
        return result;
      }),
    );
  }

  /** Keyed events alone, in one transaction: the importer's first part of a window. */
  async writeKeyed(keyed: readonly CleanEvent[], alsoInTx?: AlsoInTx): Promise<WriteResult> {
    return this.limiter.run(() =>
      this.db.write(async (tx) => {
        const fresh = await this.dropStored(tx, keyed);
        const result = {
          received: keyed.length,
          written: fresh.length,
          duplicates: keyed.length - fresh.length,
        };
        const folded = new Aggregator();
        for (const e of fresh) folded.add(e);
        await writeRows(tx, this.cypher, folded.rows());
        if (alsoInTx) await alsoInTx(tx, result);
        return result;
      }),
    );
  }

  /** Already-folded rows of events without keys, in one transaction. */
  async writeFolded(
    rows: BatchRows,
    alsoInTx?: (tx: ManagedTransaction) => Promise<void>,
  ): Promise<void> {
    await this.limiter.run(() =>
      this.db.write(async (tx) => {
        await writeRows(tx, this.cypher, rows);
        if (alsoInTx) await alsoInTx(tx);
      }),
    );
  }

  /** The keyed events whose key was not stored before (first of a repeated key only). */
  private async dropStored(
    tx: ManagedTransaction,
    events: readonly CleanEvent[],
  ): Promise<CleanEvent[]> {
    const firstWithId = new Map<string, CleanEvent>();
    for (const e of events)
      if (e.id !== undefined && !firstWithId.has(e.id)) firstWithId.set(e.id, e);
    if (firstWithId.size === 0) return [];
    const res = await tx.run(query(this.cypher, 'ingest/merge-event-ids'), {
      ids: [...firstWithId.keys()],
      token: randomUUID(),
      now: Date.now(),
    });
    return res.records
      .filter((r) => r.get('fresh') === true)
      .map((r) => firstWithId.get(r.get('id') as string) as CleanEvent);
  }
}
