/**
 * Retention of idempotency keys: an event sent with an `id` leaves an
 * (:IngestedEvent {id, storedAt}) node so a resend is recognised. Kept for ever
 * they would grow with every keyed event, so keys older than
 * INGEST_EVENT_ID_RETENTION_DAYS (0 = keep for ever) are deleted: at start-up and
 * then hourly, in batches of one transaction each. A resend that arrives later
 * than the retention is counted as a new event. Batches' keys (Idempotency-Key,
 * (:IngestedBatchKey {key, storedAt})) are kept as long, and go after the events' keys.
 * The markers ingest's other writes leave
 * (:IngestedBatch {token, storedAt}, src/ingest/writer.ts) are pruned the same way
 * after the keys, but after an hour whatever that setting says: only the driver's
 * retries (30 s at most) ever run a committed transaction again, and one marker per
 * write transaction kept for days would outnumber the keys many times over.
 * Last, when AUDIT_QUERY_RETENTION_DAYS is set, the audit trail's entries of
 * investigations and console queries older than that: each holds its query's text and
 * parameters (up to a few hundred KB, escaped), and an analyst key may send 1,200 a
 * minute. Verdicts' and allow-list changes' entries are kept: few, and their resends
 * are answered from them.
 */
import { Cron } from 'croner';
import type { Context } from '../context';
import { query, type CypherMap } from '../platform/cypher';
import { type Database, int, toNumber } from '../platform/neo4j';

const DAY_MS = 86_400_000;
/** How long a write marker is kept: far past the driver's 30 s of retries. */
const MARKER_KEEP_MS = 3_600_000;
/** Keys deleted per transaction: small enough to keep each commit short. */
const BATCH = 10_000;
/** Hourly, off the hour (other jobs like the nightly run start on it). */
const PATTERN = '23 * * * *';

/** Deletes every key stored before `before` (epoch ms); returns how many. */
export async function pruneEventIds(
  db: Database,
  cypher: CypherMap,
  before: number,
  options: { batch?: number; stopped?: () => boolean } = {},
): Promise<number> {
  return pruneBefore(db, query(cypher, 'ingest/delete-expired-event-ids'), before, options);
}

/** Deletes every write marker stored before `before` (epoch ms); returns how many. */
export async function pruneIngestedBatches(
  db: Database,
  cypher: CypherMap,
  before: number,
  options: { batch?: number; stopped?: () => boolean } = {},
): Promise<number> {
  return pruneBefore(db, query(cypher, 'ingest/delete-expired-ingested-batches'), before, options);
}

/** Runs a delete-expired statement, one transaction per `batch`, until one comes back short. */
async function pruneBefore(
  db: Database,
  statement: string,
  before: number,
  options: { batch?: number; stopped?: () => boolean },
): Promise<number> {
  const batch = options.batch ?? BATCH;
  let total = 0;
  while (!options.stopped?.()) {
    const deleted = await db.write(async (tx) => {
      const res = await tx.run(statement, { before, limit: int(batch) });
      return toNumber(res.records[0]?.get('deleted') ?? 0);
    });
    total += deleted;
    if (deleted < batch) break;
  }
  return total;
}

export interface EventIdRetention {
  /**
   * prunes keys, then write markers, then (when set) queries' audit entries, now (what the
   * schedule does); resolves to the keys deleted. One prune at a time: while one runs,
   * this answers that one.
   */
  prune(): Promise<number>;
  /** stops the schedule; resolves when a prune in progress has finished its batch */
  stop(): Promise<void>;
}

export function startEventIdRetention(ctx: Context): EventIdRetention {
  const days = ctx.config.INGEST_EVENT_ID_RETENTION_DAYS;
  if (days === 0) ctx.logger.info('event ids are kept for ever (INGEST_EVENT_ID_RETENTION_DAYS=0)');
  let stopped = false;
  const pruneOnce = async (): Promise<number> => {
    const now = Date.now();
    const options = { stopped: () => stopped };
    let deleted = 0;
    if (days > 0) {
      const before = now - days * DAY_MS;
      deleted = await pruneEventIds(ctx.db, ctx.cypher, before, options);
      ctx.metrics.eventIdsPruned.inc(deleted);
      if (deleted > 0)
        ctx.logger.info({ deleted, before: new Date(before).toISOString() }, 'event ids pruned');
      const batchKeys = query(ctx.cypher, 'ingest/delete-expired-batch-keys');
      const keys = await pruneBefore(ctx.db, batchKeys, before, options);
      if (keys > 0)
        ctx.logger.info({ keys, before: new Date(before).toISOString() }, 'batch keys pruned');
    }
    const markersBefore = now - MARKER_KEEP_MS;
    const batches = await pruneIngestedBatches(ctx.db, ctx.cypher, markersBefore, options);
    if (batches > 0)
      ctx.logger.info(
        { batches, before: new Date(markersBefore).toISOString() },
        'write markers pruned',
      );
    const auditDays = ctx.config.AUDIT_QUERY_RETENTION_DAYS;
    if (auditDays > 0) {
      const before = now - auditDays * DAY_MS;
      const statement = query(ctx.cypher, 'verdicts/delete-expired-query-audit-entries');
      const entries = await pruneBefore(ctx.db, statement, before, options);
      if (entries > 0)
        ctx.logger.info(
          { entries, before: new Date(before).toISOString() },
          'audit entries of queries pruned',
        );
    }
    return deleted;
  };
  // Single flight: the first prune starts outside croner (whose `protect` only knows its
  // own runs), so a tick that comes while a prune runs joins it instead of starting a
  // second one deleting the same oldest keys, and stop() waits for the one running.
  let running: Promise<number> | undefined;
  const prune = (): Promise<number> =>
    (running ??= pruneOnce().finally(() => {
      running = undefined;
    }));
  // A failed prune loses nothing: the keys stay until the next tick deletes them.
  const tick = (): Promise<void> =>
    prune().then(
      () => undefined,
      (err: unknown) => ctx.logger.warn({ err }, 'retention pruning failed'),
    );
  const job = new Cron(PATTERN, { name: 'event-id-retention', protect: true }, tick);
  void tick();
  return {
    prune,
    stop: async () => {
      stopped = true;
      job.stop();
      await running?.catch(() => undefined);
    },
  };
}
