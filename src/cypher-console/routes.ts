/** POST /v1/cypher: ad-hoc read-only Cypher for analysts (see service.ts). */
import { Router, type RequestHandler } from 'express';
import type { Context } from '../context';
import type { AnalystQueries } from './run';
import { requireRole } from '../platform/auth';
import { AppError } from '../platform/errors';
import { noQuery, parseInput } from '../platform/http';
import { CypherConsole, cypherRequestSchema } from './service';

/**
 * Who may use the console (CYPHER_CONSOLE): an ad-hoc expression can exhaust Neo4j's
 * memory or outlive its timeout (README, "Two holes"), so a deployment can keep it to
 * admins or turn it off; saved investigations stay open to analysts either way.
 */
function consoleAccess(setting: Context['config']['CYPHER_CONSOLE']): RequestHandler {
  if (setting === 'analyst') return requireRole('analyst');
  if (setting === 'admin') return requireRole();
  return (_req, _res, next) =>
    next(
      new AppError(
        'forbidden',
        'the ad-hoc Cypher console is turned off on this service (CYPHER_CONSOLE=off); saved investigations still run',
      ),
    );
}

export function cypherConsoleRoutes(ctx: Context, queries: AnalystQueries): Router {
  const console = new CypherConsole(ctx, queries);
  const router = Router();
  router.post('/v1/cypher', consoleAccess(ctx.config.CYPHER_CONSOLE), async (req, res) => {
    parseInput(noQuery, req.query);
    const body = parseInput(cypherRequestSchema, req.body);
    res.json(await console.run(req.principal!, body));
  });
  return router;
}
