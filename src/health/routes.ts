/**
 * Liveness and readiness. /healthz says the process is up; /readyz says it can
 * do its job: Neo4j answers and every migration is applied. Both are open (no
 * auth) so load balancers and orchestrators can probe them.
 */
import { Router } from 'express';
import type { CypherMap } from '../platform/cypher';
import { within } from '../platform/cache';
import { AppError, isAppError } from '../platform/errors';
import { migrationsApplied } from '../platform/migrations';
import type { Database } from '../platform/neo4j';

/** How long one readiness answer stands for every probe. */
const READY_TTL_MS = 1000;
/** A check unanswered this long is "not ready": one stuck connection must not wedge every probe. */
const PING_BOUND_MS = 5000;

export function healthRoutes(deps: {
  db: Database;
  cypher: CypherMap;
  stopping?: () => boolean;
}): Router {
  const router = Router();
  const readiness = new Readiness(deps.db, deps.cypher);
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    // A probe on a kept-alive connection can still arrive during the stop's grace period:
    // a balancer must take this replica out, not keep sending it work.
    if (deps.stopping?.()) {
      throw new AppError('not_ready', 'the service is stopping', {
        details: { stopping: true },
      });
    }
    await readiness.check();
    res.json({ status: 'ready', neo4j: 'up', migrations: 'applied' });
  });
  return router;
}

/**
 * /readyz needs no key, so anyone who reaches the port can ask it: probes share one
 * check at a time and its answer for READY_TTL_MS, and migrations once seen applied are
 * not counted again until a ping fails, so a flood of probes costs Neo4j one ping a second rather than two
 * transactions each on the pool every other request needs.
 */
/** How a read says Neo4j is not there (for now): toAppError's codes. */
const NEO4J_AWAY = new Set(['database_unavailable', 'database_busy', 'query_timeout']);

export class Readiness {
  private last: { at: number; done: Promise<void> } | undefined;
  private migrated = false;
  /** A check still running after its bound: raced again rather than doubled (a stalled
   * Neo4j would otherwise collect one hung session on the pool per probe). */
  private running: Promise<void> | undefined;

  constructor(
    private readonly db: Database,
    private readonly cypher: CypherMap,
    private readonly now: () => number = Date.now,
  ) {}

  check(): Promise<void> {
    const last = this.last;
    if (last && this.now() - last.at < READY_TTL_MS) return last.done;
    this.running ??= this.probe().finally(() => (this.running = undefined));
    const done = within(
      this.running,
      PING_BOUND_MS,
      () =>
        new AppError('not_ready', `Neo4j did not answer within ${PING_BOUND_MS} ms`, {
          details: { neo4j: 'down' },
        }),
    ).finally(() => {
      // The answer stands from when it came, not from when it was asked.
      if (this.last?.done === done) this.last = { at: this.now(), done };
    });
    // Still in flight: later probes share it (at is pushed out until it settles).
    this.last = { at: Infinity, done };
    return done;
  }

  private async probe(): Promise<void> {
    try {
      await this.db.ping();
    } catch (err) {
      // Neo4j may come back as another database (restored, or dropped and recreated):
      // its migrations are counted again.
      this.migrated = false;
      throw new AppError('not_ready', 'Neo4j is unreachable', {
        cause: err,
        details: { neo4j: 'down' },
      });
    }
    if (this.migrated) return;
    // A ping answered, then the count found Neo4j gone (a restart, a leader switch between
    // the two): not ready, as for a failed ping (review, 12-06). Anything else (a fault of
    // ours, Neo4j refusing the read) stays what it is, a 500 with its cause logged.
    const applied = await migrationsApplied(this.db, this.cypher).catch((err: unknown) => {
      if (!isAppError(err) || !NEO4J_AWAY.has(err.code)) throw err;
      throw new AppError('not_ready', 'Neo4j did not answer the migrations count', {
        cause: err,
        details: { neo4j: 'down' },
      });
    });
    if (!applied) {
      throw new AppError('not_ready', 'migrations are not applied', {
        details: { migrations: 'pending' },
      });
    }
    this.migrated = true;
  }
}
