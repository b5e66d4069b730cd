/** GET /v1/investigations (catalog) and POST /v1/investigations/{name} (run one), analysts. */
import { Router } from 'express';
import type { Context } from '../context';
import type { AnalystQueries } from '../cypher-console/run';
import { requireRole } from '../platform/auth';
import { noQuery, parseInput } from '../platform/http';
import { investigationNameParam } from './catalog';
import { Investigations } from './service';

export function investigationRoutes(ctx: Context, queries: AnalystQueries): Router {
  const investigations = new Investigations(ctx, queries);
  const router = Router();
  router.get('/v1/investigations', requireRole('analyst'), (req, res) => {
    parseInput(noQuery, req.query);
    res.json({ investigations: investigations.list() });
  });
  router.post('/v1/investigations/:name', requireRole('analyst'), async (req, res) => {
    const { name } = parseInput(investigationNameParam, req.params);
    parseInput(noQuery, req.query);
    res.json(await investigations.run(req.principal!, name, req.body));
  });
  return router;
}
