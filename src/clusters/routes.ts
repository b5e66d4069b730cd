/**
 * GET /v1/clusters, /v1/clusters/{id}, /v1/clusters/{id}/graph (analyst).
 * Thin: parse input, call ClusterService, send JSON.
 */
import { Router } from 'express';
import type { Context } from '../context';
import { requireRole } from '../platform/auth';
import { noQuery, parseInput, parseQuery } from '../platform/http';
import { clusterDetailQuery, clusterIdParam, listClustersQuery } from './schemas';
import { ClusterService } from './service';

export function clusterRoutes(ctx: Context): Router {
  const clusters = new ClusterService(ctx);
  const router = Router();
  router.get('/v1/clusters', requireRole('analyst'), async (req, res) => {
    const q = parseQuery(listClustersQuery, req.query);
    res.json(await clusters.list(q));
  });
  router.get('/v1/clusters/:id', requireRole('analyst'), async (req, res) => {
    const { id } = parseInput(clusterIdParam, req.params);
    const q = parseQuery(clusterDetailQuery, req.query);
    res.json(await clusters.detail(id, q));
  });
  router.get('/v1/clusters/:id/graph', requireRole('analyst'), async (req, res) => {
    const { id } = parseInput(clusterIdParam, req.params);
    parseInput(noQuery, req.query);
    res.json(await clusters.graph(id));
  });
  return router;
}
