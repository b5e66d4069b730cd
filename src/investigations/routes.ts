/** GET /v1/investigations (catalog) and POST /v1/investigations/{name} (run one), analysts. */
import { Router } from 'express';
import { z } from 'zod';
import type { Context } from '../context';
import type { AnalystQueries } from '../cypher-console/run';
import { requireRole } from '../platform/auth';
import { parseInput } from '../platform/http';
import { Investigations } from './service';

const nameParam = z.object({ name: z.string().regex(/^[a-z0-9-]{1,100}$/) });

export function investigationRoutes(ctx: Context, queries: AnalystQueries): Router {
  const investigations = new Investigations(ctx, queries);
  const router = Router();
  router.get('/v1/investigations', requireRole('analyst'), (_req, res) => {
    res.json({ investigations: investigations.list() });
  });
  router.post('/v1/investigations/:name', requireRole('analyst'), async (req, res) => {
    const { name } = parseInput(nameParam, req.params);
    res.json(await investigations.run(req.principal!, name, req.body));
  });
  return router;
}
