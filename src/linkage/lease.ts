/**
 * One linkage run at a time across every process that shares the database:
 * a `(:Lease {name: 'linkage'})` node with a holder (the run id) and an expiry
 * on the database clock.
 *
 * Taking the lease and creating the run record happen in ONE write transaction,
 * so a refused trigger leaves no trace and a taken lease always has its run.
 * The holder renews the lease every ttl/6 ms and at every phase boundary (the timer
 * cannot fire while this thread is blocked: the pure stages run in a worker, so TTL need
 * only exceed this thread's longest stall; default 120 s); a holder that dies stops
 * renewing, the lease expires, and the next trigger takes it over and marks the dead run
 * failed ("lease expired"), unless a service's periodic check (dead-runs.ts) did first.
 * A lease whose holder's run has already finished (failed or succeeded, its release
 * never written) is free too. A holder that finds its lease gone (renewal matched
 * nothing) is told through `lost`/`assertHeld`, and publish's final swap checks the
 * holder again inside its transaction, so a run that lost its lease can never become
 * current. Every statement that reads the holder and then changes the lease or a run
 * takes the lease's write lock first (`SET l.lockedAt`), so what it reads is committed:
 * a swap or renewal that waited on a takeover or a dead-run check sees it.
 */
import type { ManagedTransaction } from 'neo4j-driver';
import { query, type CypherMap } from '../platform/cypher';
import { AppError } from '../platform/errors';
import type { Logger } from '../platform/logger';
import { type Database, int, toPlain } from '../platform/neo4j';

export const LEASE_NAME = 'linkage';
/** The error of a run whose holder stopped renewing until its lease expired. */
export const LEASE_EXPIRED = 'lease expired';
/** The error of a run still marked running that does not hold the lease. */
export const ABANDONED = 'abandoned: still marked running without the linkage lease';

export interface LeaseOptions {
  ttlMs: number;
  /** renewal period; default ttlMs / 6 */
  renewEveryMs?: number;
  name?: string;
}

export class Lease {
  private timer: NodeJS.Timeout | undefined;
  private lostReason: string | undefined;
  private released = false;
  /** the renewal on its way, if one is */
  private renewing: Promise<void> | undefined;
  readonly name: string;

  private constructor(
    private readonly db: Database,
    private readonly cypher: CypherMap,
    private readonly logger: Logger,
    readonly holder: string,
    private readonly opts: LeaseOptions,
  ) {
    this.name = opts.name ?? LEASE_NAME;
  }

  /**
   * Takes the lease for `holder` if it is free, expired, held by a run that has already
   * finished, or already `holder`'s (the driver retrying a commit that went through)
   * and, in the same transaction, runs `alsoInTx` (creating the run record; it must be
   * idempotent too). Throws AppError('run_in_progress', {details: {runId}}) when another
   * run holds it and is still running (or has no run record).
   * A previous holder whose lease expired is marked failed ("lease expired"), and so
   * are runs left running without the lease ("abandoned").
   */
  static async acquire(
    deps: { db: Database; cypher: CypherMap; logger: Logger },
    holder: string,
    opts: LeaseOptions,
    alsoInTx: (tx: ManagedTransaction) => Promise<void>,
  ): Promise<Lease> {
    const name = opts.name ?? LEASE_NAME;
    const takenOver = await deps.db.write(async (tx) => {
      // The dead runs first (an expired holder's, runs left without the lease): the
      // same statement as the periodic check, which also frees an expired lease.
      const dead = await failDeadRunsIn(tx, deps.cypher, name, holder);
      const res = await tx.run(query(deps.cypher, 'linkage/acquire-lease'), {
        name,
        holder,
        ttlMs: int(opts.ttlMs),
      });
      const row = toPlain(res.records[0]?.toObject()) as Record<string, unknown>;
      if (row.acquired !== true) {
        throw new AppError('run_in_progress', 'a linkage run is already in progress', {
          details: {
            runId: row.holder ?? null,
            // ISO-8601, as everywhere else in run records.
            leaseExpiresAt:
              typeof row.expiresAt === 'number' ? new Date(row.expiresAt).toISOString() : null,
          },
        });
      }
      await alsoInTx(tx);
      const finished =
        row.previousFinished === true && row.previous !== holder ? (row.previous as string) : null;
      return { ...dead, finished };
    });
    if (takenOver.expired !== null) {
      deps.logger.warn(
        { previousRunId: takenOver.expired, runId: holder },
        'linkage lease expired; took it over and marked the previous run failed',
      );
    }
    if (takenOver.finished !== null) {
      deps.logger.warn(
        { previousRunId: takenOver.finished, runId: holder },
        'took over the linkage lease from a run that had already finished (its release was never written)',
      );
    }
    if (takenOver.abandoned.length > 0) {
      deps.logger.warn(
        { orphanedRunIds: takenOver.abandoned, runId: holder },
        'marked runs failed that were still running without the lease',
      );
    }
    const lease = new Lease(deps.db, deps.cypher, deps.logger, holder, opts);
    lease.startRenewing();
    return lease;
  }

  /** Set when renewal found the lease taken (or gone); the run must stop. */
  get lost(): string | undefined {
    return this.lostReason;
  }

  assertHeld(): void {
    if (this.lostReason !== undefined) {
      throw new AppError('conflict', `linkage lease lost: ${this.lostReason}`, {
        details: { runId: this.holder },
      });
    }
  }

  /** Renews once now; resolves false when the lease is no longer this holder's. */
  async renew(): Promise<boolean> {
    const res = await this.db.write((tx) =>
      tx.run(query(this.cypher, 'linkage/renew-lease'), {
        name: this.name,
        holder: this.holder,
        ttlMs: int(this.opts.ttlMs),
      }),
    );
    if (res.records.length === 0) {
      // Why it is gone is not known here: a stall or Neo4j away past the TTL let it expire;
      // then a check freed it, or another run took it.
      this.lostReason ??= 'it is no longer this run’s (not renewed within its TTL, it expired)';
      return false;
    }
    return true;
  }

  /**
   * Renews once now; a failure to reach the database (past the driver's retries) is
   * logged, not thrown. It is not a lost lease: the next renewal retries. If renewals
   * keep failing the lease expires; the next trigger or a dead-run check may then fail
   * this run and free or take the lease, which the final swap sees (it checks the holder
   * and the run's status, not the expiry: an expired lease nobody acted on is still this
   * run's). A lease found taken is still told through `lost`.
   */
  async renewOrWarn(): Promise<void> {
    // One renewal at a time, the timer's and a phase boundary's alike, and none once
    // stopped: stopRenewing waits for the one on its way, and no later one may extend the
    // lease of a run that has failed (a phase boundary's came after it, review of 12-05).
    if (this.released) return;
    this.renewing ??= this.renew()
      .then(
        () => undefined,
        (err: unknown) => {
          this.logger.warn({ err, runId: this.holder }, 'linkage lease renewal failed');
        },
      )
      .finally(() => {
        this.renewing = undefined;
      });
    await this.renewing;
  }

  private startRenewing(): void {
    const every = this.opts.renewEveryMs ?? Math.max(250, Math.floor(this.opts.ttlMs / 6));
    this.timer = setInterval(() => {
      if (this.released || this.renewing) return;
      void this.renewOrWarn();
    }, every);
    this.timer.unref();
  }

  /** Stops renewing and frees the lease if this holder still has it. */
  async release(): Promise<void> {
    await this.stopRenewing();
    await this.db.write((tx) =>
      tx.run(query(this.cypher, 'linkage/release-lease'), {
        name: this.name,
        holder: this.holder,
      }),
    );
  }

  /**
   * Stops renewing, and resolves once a renewal already on its way has ended (it would
   * extend the lease after this); the lease stays until released or expired. A failed
   * run calls it first, so retries of its failure record (Neo4j away) cannot keep
   * extending a lease that no run uses.
   */
  async stopRenewing(): Promise<void> {
    this.abandon();
    await this.renewing;
  }

  /** Stops the timer at once, without waiting (and a test hook: a process that died). */
  abandon(): void {
    this.released = true;
    if (this.timer) clearInterval(this.timer);
  }
}

/** Runs failed by `failDeadRunsIn`. */
export interface DeadRuns {
  /** the holder of an expired lease, failed "lease expired"; null if none */
  expired: string | null;
  /** runs failed as abandoned: running without holding the lease */
  abandoned: string[];
}

/**
 * Fails, in the caller's write transaction, the runs marked running without a live
 * lease, and frees an expired lease (cypher/linkage/fail-dead-runs.cypher): what a new
 * run does before it takes the lease, and what the periodic check does (dead-runs.ts).
 */
export async function failDeadRunsIn(
  tx: ManagedTransaction,
  cypher: CypherMap,
  name: string,
  /** the run taking the lease: its own, expired, is a retry's and not dead */
  asking: string | null = null,
): Promise<DeadRuns> {
  const res = await tx.run(query(cypher, 'linkage/fail-dead-runs'), {
    name,
    asking,
    expiredError: LEASE_EXPIRED,
    abandonedError: ABANDONED,
  });
  const dead: DeadRuns = { expired: null, abandoned: [] };
  for (const r of res.records) {
    if (r.get('expired') === true) dead.expired = r.get('id') as string;
    else dead.abandoned.push(r.get('id') as string);
  }
  return dead;
}
