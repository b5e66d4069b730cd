/**
 * GET /v1/accounts/{id}/cluster (membership, cached per run) and
 * GET /v1/accounts/{id} (profile), for analysts.
 */
import { Router } from 'express';
import { accountIdParam } from '../clusters/schemas';
import type { Context } from '../context';
import { requireRole } from '../platform/auth';
import { noQuery, parseInput } from '../platform/http';
import { AccountService } from './service';

export function accountRoutes(ctx: Context): Router {
  const accounts = new AccountService(ctx);
  const router = Router();
  router.get('/v1/accounts/:id/cluster', requireRole('analyst'), async (req, res) => {
    const { id } = parseInput(accountIdParam, req.params);
    parseInput(noQuery, req.query);
    res.json(await accounts.membership(id));
  });
  router.get('/v1/accounts/:id', requireRole('analyst'), async (req, res) => {
    const { id } = parseInput(accountIdParam, req.params);
    parseInput(noQuery, req.query);
    res.json(await accounts.profile(id));
  });
  return router;
}
