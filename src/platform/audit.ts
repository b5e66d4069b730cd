/**
 * The audit log: who ran which investigation or ad-hoc Cypher, who recorded which
 * verdict, who added or deleted which allow-list entry. Each record goes two ways: a structured log line (`audit: true`), which
 * ships with the rest of the logs to wherever they are kept, and an (:AuditEntry)
 * node, so the trail lives beside the data it concerns, survives log rotation and
 * can be exported over the API (GET /v1/audit). For reads the log line is written first
 * and always; a failed node write is logged loudly and does not fail the request (the
 * log line already holds the record). Verdicts and allow-list changes write their node
 * in the change's own transaction (see `recordInTx`) and their log line once it has
 * committed, so neither exists without the change; a change that fails is recorded
 * afterwards with its error code. Reads are recorded before they run, with outcome
 * "started", and completed with their outcome after (`start`, `complete`): one that never
 * ends stays in the trail as started.
 */
import { randomUUID } from 'node:crypto';
import { Neo4jError } from 'neo4j-driver';
import type { Principal } from './auth';
import { type CypherMap, query } from './cypher';
import { AppError } from './errors';
import type { Logger } from './logger';
import { type Database, type ManagedTransaction, type QueryRunner, int } from './neo4j';

export const AUDIT_ACTIONS = [
  'investigation',
  'cypher',
  'verdict',
  'allowlist_add',
  'allowlist_delete',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditRecord {
  actor: Principal;
  action: AuditAction;
  /** investigation name, cluster id, "adhoc", or an allow-list entry's "kind:value" */
  target: string;
  params: Record<string, unknown>;
  /** "ok" or the error code it ended with */
  outcome: string;
}

/** An entry written in a transaction, to log once it has committed. */
export interface Committed {
  entry: AuditRecord;
  params: Record<string, unknown>;
}

/** The outcome of an audited read while it runs (and for good, if it never ends). */
const STARTED = 'started';

/**
 * Refusals (429) of one actor's reads within this long after one that was stored share its
 * node: a flood of them costs one write to start and one to count, not one each.
 */
export const REFUSAL_WINDOW_MS = 10_000;

/**
 * How an entry written on its own (`record`, `complete`, repeats) is written: retried
 * for 2 s (a leader switch, a dead pooled connection), not the driver's 30 s. Its log
 * line is the record that never fails; with Neo4j away the node is lost within seconds
 * rather than after 30 s, which the request waiting on it (and its query slot) would
 * spend for nothing. Every entry write is a MERGE on its id: safe to run again.
 */
const OWN_WRITE = { timeoutMs: 5_000, budgetMs: 2_000 };

/** Failures after which a write's commit may have gone through, its answer lost. */
const MAYBE_COMMITTED = new Set(['database_unavailable', 'database_busy', 'internal']);

/**
 * How a write that failed is audited: `outcome_unknown` with its code in `params.error`
 * when its commit may have gone through, the answer lost (Neo4j gone past the driver's
 * retries, a fault of ours), so the trail does not say it failed when it may stand; its
 * code when nothing can have committed: a refusal before the write (forbidden, not_found,
 * conflict) or Neo4j refusing it (a client error: credentials, a read-only database).
 */
export function failedWriteOutcome(err: unknown): { outcome: string; error?: string } {
  const code = err instanceof AppError ? err.code : 'internal';
  const cause = err instanceof AppError ? err.cause : err;
  const refusedByNeo4j = cause instanceof Neo4jError && cause.code.startsWith('Neo.ClientError.');
  return MAYBE_COMMITTED.has(code) && !refusedByNeo4j
    ? { outcome: 'outcome_unknown', error: code }
    : { outcome: code };
}

/** Calls `close` once `ms` have passed: how a refusal window ends (a test closes its own). */
export type WindowTimer = (close: () => void, ms: number) => void;

/** A timer that does not keep the process alive for a window's count. */
const unrefTimer: WindowTimer = (close, ms) => {
  setTimeout(close, ms).unref();
};

/** An entry `record` wrote, as `complete` needs it after `start`. */
export interface StartedEntry {
  id: string;
  /** when it started (epoch ms): the entry's `at` */
  at: number;
}

/** One actor's and action's refusals counted on the entry the first one stored. */
interface RefusalWindow {
  id: string;
  more: number;
  /** whether the first refusal's entry got into Neo4j (the count has a node to go on) */
  stored: Promise<boolean>;
}

export class AuditLog {
  /** At info whatever LOG_LEVEL says: a quieter service must not lose its audit lines. */
  private readonly logger: Logger;
  /** Open refusal windows by actor and action: the stored entry and refusals since. */
  private readonly refusals = new Map<string, RefusalWindow>();

  constructor(
    private readonly db: Database,
    private readonly cypher: CypherMap,
    logger: Logger,
    private readonly windowTimer: WindowTimer = unrefTimer,
  ) {
    this.logger = logger.child({}, { level: 'info' });
    // Windows still open at shutdown are counted before the driver closes: their timers
    // would fire after the process had exited (review, 12-05).
    db.onClose(() => this.countOpenWindows());
  }

  private async countOpenWindows(): Promise<void> {
    const open = [...this.refusals.values()];
    this.refusals.clear();
    // a window whose first entry is still being written is counted once it is there
    await Promise.all(
      open.map(async (w) => {
        if ((await w.stored) && w.more > 0) await this.countRepeats(w.id, w.more);
      }),
    );
  }

  /**
   * Log line + AuditEntry node in a transaction of its own: a change that failed, a read
   * refused before it ran (429), a read about to run (`start`). Never throws: a trail that
   * cannot be written is logged.
   */
  async record(entry: AuditRecord, id: string = randomUUID()): Promise<StartedEntry> {
    return (await this.store(entry, id)).started;
  }

  private async store(
    entry: AuditRecord,
    id: string,
  ): Promise<{ started: StartedEntry; stored: boolean }> {
    const params = this.log(entry, id);
    let stored = true;
    try {
      await this.db.writeBriefly((tx) => this.writeEntry(tx, params), OWN_WRITE);
    } catch (err) {
      stored = false;
      this.logger.error({ err, audit: true, id: params.id }, 'audit entry not stored in Neo4j');
    }
    return { started: { id: params.id as string, at: params.at as number }, stored };
  }

  /**
   * A read refused before it ran (429). Each refusal has its log line; the first in
   * `REFUSAL_WINDOW_MS` of this actor's and action's is also stored as a node, and the
   * ones after it within the window are counted on that node (`repeats`) when the window
   * closes. Only the first waits for a write. Never throws.
   */
  async refused(entry: AuditRecord, windowMs = REFUSAL_WINDOW_MS): Promise<void> {
    const key = `${entry.actor.name}\u0000${entry.action}`;
    const open = this.refusals.get(key);
    if (open) {
      open.more++;
      this.logLine(entry, { ...this.params(entry, randomUUID()), repeatOf: open.id });
      return;
    }
    const id = randomUUID();
    const storing = this.store(entry, id).then((r) => r.stored);
    const window: RefusalWindow = { id, more: 0, stored: storing };
    this.refusals.set(key, window);
    if (!(await storing)) {
      // No node to count on: the next refusal is stored as a first one. Those counted
      // meanwhile have their log lines only (the count matched nothing, without a word).
      if (this.refusals.get(key) === window) this.refusals.delete(key);
      if (window.more > 0)
        this.logger.error(
          { audit: true, id: window.id, repeats: window.more },
          'audit repeats not stored in Neo4j: their first entry is not there',
        );
      return;
    }
    // from the write on, so the count never reaches Neo4j before the node
    this.windowTimer(() => {
      if (this.refusals.get(key) !== window) return; // counted at shutdown
      this.refusals.delete(key);
      if (window.more > 0) void this.countRepeats(window.id, window.more);
    }, windowMs);
  }

  private async countRepeats(id: string, repeats: number): Promise<void> {
    this.logger.info({ audit: true, id, repeats }, 'audit: refusals counted');
    try {
      await this.db.writeBriefly(
        (tx) =>
          tx.run(query(this.cypher, 'verdicts/count-audit-repeats'), { id, repeats: int(repeats) }),
        OWN_WRITE,
      );
    } catch (err) {
      this.logger.error({ err, audit: true, id }, 'audit repeats not stored in Neo4j');
    }
  }

  /**
   * A read's record before it runs (investigations, Cypher): log line and AuditEntry node
   * with outcome "started", in a transaction of its own, so a query that never ends (it
   * hangs, or Neo4j or the service dies under it) is in the trail all the same.
   * `complete` adds the outcome. Never throws.
   */
  start(entry: Omit<AuditRecord, 'outcome'>): Promise<StartedEntry> {
    return this.record({ ...entry, outcome: STARTED });
  }

  /**
   * The outcome of a read `start` recorded: a second log line with the same id, and the
   * node's `outcome` and `endedAt` (the node is made whole if `start` could not write
   * it). Never throws.
   */
  async complete(started: StartedEntry, entry: AuditRecord): Promise<void> {
    const params = { ...this.params(entry, started.id), at: started.at, endedAt: Date.now() };
    this.logLine(entry, params);
    try {
      await this.db.writeBriefly(
        (tx) => tx.run(query(this.cypher, 'verdicts/complete-audit-entry'), stored(params)),
        OWN_WRITE,
      );
    } catch (err) {
      this.logger.error({ err, audit: true, id: started.id }, 'audit outcome not stored in Neo4j');
    }
  }

  /**
   * AuditEntry node inside the caller's write transaction (verdicts, allow-list changes);
   * its log line is written by `logCommitted` once that transaction has committed, so a
   * retried or failed commit logs nothing it did not do. `id` comes from outside the
   * transaction function, so a retried attempt writes the same entry again rather than a
   * second one.
   */
  async recordInTx(tx: ManagedTransaction, entry: AuditRecord, id: string): Promise<Committed> {
    const params = this.params(entry, id);
    await this.writeEntry(tx, params);
    return { entry, params };
  }

  /**
   * An entry an earlier run of the same transaction function wrote with `id` (its commit
   * went through, its answer was lost): what `logCommitted` logs, nothing written again.
   */
  committedEarlier(entry: AuditRecord, id: string): Committed {
    return { entry, params: this.params(entry, id) };
  }

  /** The log line of an entry `recordInTx` wrote, after its transaction committed. */
  logCommitted(done: Committed): void {
    this.logLine(done.entry, done.params);
  }

  private log(entry: AuditRecord, id: string = randomUUID()): Record<string, unknown> {
    const params = this.params(entry, id);
    this.logLine(entry, params);
    return params;
  }

  private params(entry: AuditRecord, id: string): Record<string, unknown> {
    return {
      id,
      actor: entry.actor.name,
      role: entry.actor.role,
      action: entry.action,
      target: entry.target,
      params: serialise(entry.params),
      outcome: entry.outcome,
      at: Date.now(),
    };
  }

  private logLine(entry: AuditRecord, params: Record<string, unknown>): void {
    try {
      this.logger.info({ audit: true, ...params, params: entry.params }, `audit: ${entry.action}`);
    } catch {
      // Parameters the logger cannot walk: the serialised text, so the line is never lost.
      this.logger.info({ audit: true, ...params }, `audit: ${entry.action}`);
    }
  }

  private async writeEntry(tx: QueryRunner, params: Record<string, unknown>) {
    await tx.run(query(this.cypher, 'verdicts/create-audit-entry'), stored(params));
  }
}

/** Parameters as JSON; never throws, so an odd value cannot skip its audit record. */
function serialise(params: Record<string, unknown>): string {
  try {
    return JSON.stringify(params);
  } catch (err) {
    return JSON.stringify({ unserialisable: err instanceof Error ? err.message : String(err) });
  }
}

/**
 * Times as Neo4j integers, as the graph stores times (a JS number goes as a float, which
 * `datetime({epochMillis: …})` refuses); the log line keeps plain numbers.
 */
function stored(params: Record<string, unknown>): Record<string, unknown> {
  const out = { ...params };
  for (const key of ['at', 'endedAt'])
    if (typeof out[key] === 'number') out[key] = int(out[key] as number);
  return out;
}
