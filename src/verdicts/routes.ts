/**
 * POST /v1/clusters/{id}/verdict (analyst), GET /v1/verdicts (analyst, export),
 * GET /v1/audit (admin: the audit trail).
 */
import { Router } from 'express';
import { clusterIdParam } from '../clusters/schemas';
import type { Context } from '../context';
import { requireRole } from '../platform/auth';
import { noQuery, parseInput, parseQuery } from '../platform/http';
import { idempotencyKey } from '../platform/idempotency-key';
import { listAuditQuery, listVerdictsQuery, verdictRequestSchema } from './schemas';
import { VerdictService } from './service';

export function verdictRoutes(ctx: Context): Router {
  const verdicts = new VerdictService(ctx);
  const router = Router();
  router.post('/v1/clusters/:id/verdict', requireRole('analyst'), async (req, res) => {
    const { id } = parseInput(clusterIdParam, req.params);
    parseInput(noQuery, req.query);
    const body = parseInput(verdictRequestSchema, req.body);
    const key = idempotencyKey(req);
    const { replayed, ...recorded } = await verdicts.record(req.principal!, id, body, key);
    if (replayed) res.setHeader('idempotent-replayed', 'true');
    res.status(201).json(recorded);
  });
  router.get('/v1/verdicts', requireRole('analyst'), async (req, res) => {
    res.json(await verdicts.list(parseQuery(listVerdictsQuery, req.query)));
  });
  router.get('/v1/audit', requireRole('admin'), async (req, res) => {
    res.json(await verdicts.auditTrail(parseQuery(listAuditQuery, req.query)));
  });
  return router;
}
