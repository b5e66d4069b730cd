/**
 * Liveness and readiness. /healthz says the process is up; /readyz says it can
 * do its job: Neo4j answers and every migration is applied. Both are open (no
 * auth) so load balancers and orchestrators can probe them.
 */
import { Router } from 'express';
import type { CypherMap } from '../platform/cypher';
import { AppError } from '../platform/errors';
import { migrationsApplied } from '../platform/migrations';
import type { Database } from '../platform/neo4j';

export function healthRoutes(deps: { db: Database; cypher: CypherMap }): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    try {
      await deps.db.ping();
    } catch (err) {
      throw new AppError('not_ready', 'Neo4j is unreachable', {
        cause: err,
        details: { neo4j: 'down' },
      });
    }
    if (!(await migrationsApplied(deps.db, deps.cypher))) {
      throw new AppError('not_ready', 'migrations are not applied', {
        details: { migrations: 'pending' },
      });
    }
    res.json({ status: 'ready', neo4j: 'up', migrations: 'applied' });
  });
  return router;
}
