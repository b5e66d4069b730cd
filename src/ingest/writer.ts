/**
 * Writes a batch of clean events to Neo4j in ONE transaction: drop events whose
 * idempotency key is already stored, fold the rest, merge the accounts in id
 * order (which takes their locks), then merge every aggregate with UNWIND … MERGE
 * in statements of at most STATEMENT_ROWS rows. The transaction function is
 * retried by the driver on transient errors (deadlocks, leader switches), and a
 * failed batch leaves nothing behind. The driver also runs it again after a commit
 * whose answer was lost: a marker merged first, keyed by a token made once per write,
 * makes that re-run write nothing and answer what the commit stored.
 */
import { randomUUID } from 'node:crypto';
import { type CypherMap, query } from '../platform/cypher';
import { AppError } from '../platform/errors';
import { Limiter } from '../platform/limiter';
import { type Database, type ManagedTransaction, int, toNumber } from '../platform/neo4j';
import {
  type AccountRow,
  Aggregator,
  type BatchRows,
  type CapabilityRow,
  compare,
  type IpLinkRow,
  type LinkRow,
  type ModelRow,
} from './aggregate';
import type { CleanEvent } from './event-schema';

export interface WriteResult {
  received: number;
  written: number;
  duplicates: number;
  /** answered from an earlier request's commit under the same Idempotency-Key */
  replayed?: true;
}

/**
 * A batch's Idempotency-Key, as the writer keeps it: `key` names the caller and the
 * header (a hash of both), `digest` the batch's events, so that another batch sent under
 * the same key is refused instead of answered with the first one's counts.
 */
export interface BatchKey {
  key: string;
  digest: string;
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
 * taking their locks), then each kind of link, models and capabilities last, their
 * rows sorted by value (name): each
 * statement merges the shared values as it meets them, so every writer locks them
 * in one global order (accounts, then each kind's values in order) however the
 * rows are split. Exported so the ingest benchmark's bare reference runs exactly
 * the same statements.
 *
 * The statements are pipelined: all are sent without waiting for the one before
 * to finish. Neo4j still runs them one after another, in this order, but it never
 * sits idle while the next statement's rows are encoded and sent; if one fails,
 * the rest fail with it and the transaction rolls back.
 */
export async function writeRows(
  tx: ManagedTransaction,
  cypher: CypherMap,
  rows: BatchRows,
): Promise<void> {
  if (rows.accounts.length === 0) return;
  const sent: PromiseLike<unknown>[] = [];
  const run = (key: string, params: Record<string, unknown>) =>
    sent.push(tx.run(query(cypher, key), params));
  for (const part of chunks(rows.accounts)) {
    run('ingest/merge-accounts', { rows: part.map(accountTuple) });
  }
  // The batch's subnets are merged, in order, by the first IP statement alone.
  let subnets = [...new Set(rows.ip.map((l) => l.subnet))].sort();
  for (const [kind, key] of LINK_QUERIES) {
    if (kind === 'ip') {
      for (const part of chunks(byValue(rows.ip, (l) => l.value))) {
        run(key, { rows: part.map(ipLinkTuple), subnets });
        subnets = [];
      }
    } else {
      for (const part of chunks(byValue(rows[kind], (l) => l.value)))
        run(key, { rows: part.map(linkTuple) });
    }
  }
  // By name too: a relationship to a sparse node locks it, and two writers that met a
  // new model's node in account order could each hold one the other waits for.
  for (const part of chunks(byValue(rows.models, (m) => m.model))) {
    run('ingest/merge-model-use', { rows: part.map(modelTuple) });
  }
  for (const part of chunks(byValue(rows.capabilities, (c) => c.capability))) {
    run('ingest/merge-capabilities', { rows: part.map(capabilityTuple) });
  }
  await Promise.all(sent);
}

/*
 * Rows travel as lists, not maps: packing and unpacking every row's field names
 * cost about 5 % of a write (bench/RESULTS.md). Each statement's first WITH names
 * the positions; these encoders are the other half of that contract.
 */
const accountTuple = (a: AccountRow) => [
  a.id,
  a.firstSeen,
  a.lastSeen,
  a.signupAt,
  a.requests,
  a.hourKeys,
  a.hourCounts,
  a.emailDomain,
  a.org,
  a.emailDomainAt,
  a.orgAt,
];
const linkTuple = (l: LinkRow) => [l.accountId, l.value, l.count, l.firstSeen, l.lastSeen];
// Written out, not built from linkTuple: no throwaway array per IP row.
const ipLinkTuple = (l: IpLinkRow) => [
  l.accountId,
  l.value,
  l.count,
  l.firstSeen,
  l.lastSeen,
  l.subnet,
];
const modelTuple = (m: ModelRow) => [
  m.accountId,
  m.model,
  m.count,
  m.firstUse,
  m.lastUse,
  m.hourKeys,
  m.hourCounts,
];
const capabilityTuple = (c: CapabilityRow) => [c.accountId, c.capability, c.count];

function chunks<T>(rows: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += STATEMENT_ROWS) out.push(rows.slice(i, i + STATEMENT_ROWS));
  return out;
}

/** Rows sorted by the value they link to, then account: the order the statement locks values in. */
function byValue<T extends { accountId: string }>(
  rows: readonly T[],
  value: (row: T) => string,
): T[] {
  return [...rows].sort((a, b) => compare(value(a), value(b)) || compare(a.accountId, b.accountId));
}

/**
 * One import window: events without an idempotency key folded as they arrive,
 * those with one kept aside (in line order) until a transaction has checked which
 * keys are new.
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

  /**
   * A batch in one transaction (the importer's keyed events, a lone REST batch):
   * the events whose key is already stored are dropped, the rest folded and merged.
   */
  async write(events: readonly CleanEvent[], alsoInTx?: AlsoInTx): Promise<WriteResult> {
    const [result] = await this.writeMany([events], alsoInTx);
    return result as WriteResult;
  }

  /**
   * Several batches in ONE transaction, folded together (REST's group commit), each
   * with its own counts. A key is new for the first batch, in order, that carries it:
   * the same outcome as writing the batches one after another. Folding happens inside
   * the transaction function, so a retried attempt folds again from the events.
   *
   * The write's token is made here, once, outside the transaction function: every
   * attempt the driver makes merges the same (:IngestedBatch {token}) marker first, and
   * an attempt that finds it from a commit that went through (its answer lost) writes
   * nothing, `alsoInTx` included, and answers the counts that commit stored on it.
   * Without it, events without an `id` would be folded and merged again, and keyed
   * ones reported as duplicates of themselves.
   */
  async writeMany(
    batches: readonly (readonly CleanEvent[])[],
    alsoInTx?: AlsoInTx,
    token: string = randomUUID(),
    batchKey?: BatchKey,
  ): Promise<WriteResult[]> {
    return this.limiter.run(() =>
      this.db.write((tx) => this.writeGroup(tx, batches, token, alsoInTx, batchKey)),
    );
  }

  /**
   * What the write with `token` stored, read from its marker: its answer when it
   * committed (whatever error its caller got), undefined when it never did. For a keyed
   * batch, its key's marker: the answer of whichever request under the key committed,
   * undefined when none did or it held another batch.
   */
  async committed(token: string, batchKey?: BatchKey): Promise<WriteResult[] | undefined> {
    // In a write session, so the leader answers: on a cluster a follower may not have the
    // commit yet, and "never committed" would have the batches written again.
    return this.db.write(async (tx) => {
      if (!batchKey) {
        const res = await tx.run(query(this.cypher, 'ingest/read-ingested-batch'), { token });
        return storedResults(res.records[0]);
      }
      const res = await tx.run(query(this.cypher, 'ingest/read-batch-key'), {
        key: batchKey.key,
      });
      const record = res.records[0];
      if (record?.get('digest') !== batchKey.digest) return undefined;
      return keyedResults(record, token);
    });
  }

  /** One attempt at writeMany's transaction; `token` is the same for every attempt. */
  private async writeGroup(
    tx: ManagedTransaction,
    batches: readonly (readonly CleanEvent[])[],
    token: string,
    alsoInTx?: AlsoInTx,
    batchKey?: BatchKey,
  ): Promise<WriteResult[]> {
    const all = batches.flat();
    // The marker and the key lookup are sent first; events without a key are folded
    // while they run. A re-run's lookup changes nothing: its keys are all stored.
    const marker = batchKey
      ? tx.run(query(this.cypher, 'ingest/merge-batch-key'), {
          ...batchKey,
          token,
          now: Date.now(),
        })
      : tx.run(query(this.cypher, 'ingest/merge-ingested-batch'), { token, now: Date.now() });
    const stored = this.dropStored(tx, all);
    const folded = new Aggregator();
    for (const e of all) if (e.id === undefined) folded.add(e);
    const [mark, fresh] = await Promise.all([marker, stored]);
    const committed = batchKey
      ? keyedMarker(mark.records[0], batchKey, token)
      : storedResults(mark.records[0]);
    if (committed) return committed;
    const kept = new Set(fresh);
    for (const e of all) if (e.id !== undefined && kept.has(e)) folded.add(e);
    const results = batches.map((batch) => {
      let written = 0;
      for (const e of batch) if (kept.has(e)) written++;
      return { received: batch.length, written, duplicates: batch.length - written };
    });
    const counts = {
      received: results.map((r) => int(r.received)),
      written: results.map((r) => int(r.written)),
    };
    // Pipelined behind the writes: the counts a re-run answers.
    await Promise.all([
      writeRows(tx, this.cypher, folded.rows()),
      batchKey
        ? tx.run(query(this.cypher, 'ingest/set-batch-key-counts'), {
            key: batchKey.key,
            ...counts,
          })
        : tx.run(query(this.cypher, 'ingest/set-ingested-batch-counts'), { token, ...counts }),
    ]);
    if (alsoInTx) {
      const duplicates = all.length - fresh.length;
      await alsoInTx(tx, { received: all.length, written: fresh.length, duplicates });
    }
    return results;
  }

  /**
   * Already-folded rows of events without keys, in one transaction. `alreadyDone`, read
   * first in the same transaction, skips the write: rows without keys cannot be
   * recognised once stored, so a retried commit that went through needs the caller's
   * own record (the importer's checkpoint) to not count them twice.
   */
  async writeFolded(
    rows: BatchRows,
    alsoInTx?: (tx: ManagedTransaction) => Promise<void>,
    alreadyDone?: (tx: ManagedTransaction) => Promise<boolean>,
  ): Promise<void> {
    await this.limiter.run(() =>
      this.db.write(async (tx) => {
        if (alreadyDone && (await alreadyDone(tx))) return;
        await writeRows(tx, this.cypher, rows);
        if (alsoInTx) await alsoInTx(tx);
      }),
    );
  }

  /** The events to write: unkeyed ones, and the first of each key not stored before. */
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
      // sorted: concurrent writers take the keys' locks in one order (no deadlock)
      ids: [...firstWithId.keys()].sort(),
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

/** The counts on a marker a committed attempt left, or undefined on the first attempt. */
function storedResults(
  record: { get(key: string): unknown } | undefined,
): WriteResult[] | undefined {
  const written = record?.get('written') as unknown[] | null | undefined;
  if (written === null || written === undefined) return undefined;
  const received = record?.get('received') as unknown[];
  return written.map((w, i) => {
    const r = toNumber(received[i]);
    return { received: r, written: toNumber(w), duplicates: r - toNumber(w) };
  });
}

/**
 * A keyed batch's marker as its transaction merged it: undefined when this write made it,
 * its counts when a request under the key committed, 422 idempotency_key_reused when that
 * request held another batch. Thrown inside the transaction, the AppError is not retried
 * by the driver, and nothing is written.
 */
function keyedMarker(
  record: { get(key: string): unknown } | undefined,
  batchKey: BatchKey,
  token: string,
): WriteResult[] | undefined {
  if (record?.get('digest') !== batchKey.digest) {
    throw new AppError(
      'idempotency_key_reused',
      'this Idempotency-Key was sent with another batch; a key names one batch',
    );
  }
  return keyedResults(record, token);
}

/** A keyed marker's counts, `replayed` unless they are this write's own (the driver's re-run). */
function keyedResults(
  record: { get(key: string): unknown },
  token: string,
): WriteResult[] | undefined {
  const results = storedResults(record);
  if (!results || record.get('token') === token) return results;
  return results.map((r) => ({ ...r, replayed: true }));
}
