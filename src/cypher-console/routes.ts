/** POST /v1/cypher: ad-hoc read-only Cypher for analysts (see service.ts). */
import { Router } from 'express';
import type { Context } from '../context';
import type { AnalystQueries } from './run';
import { requireRole } from '../platform/auth';
import { parseInput } from '../platform/http';
import { CypherConsole, cypherRequestSchema } from './service';

export function cypherConsoleRoutes(ctx: Context, queries: AnalystQueries): Router {
  const console = new CypherConsole(ctx, queries);
  const router = Router();
  router.post('/v1/cypher', requireRole('analyst'), async (req, res) => {
    const body = parseInput(cypherRequestSchema, req.body);
    res.json(await console.run(req.principal!, body));
  });
  return router;
}
