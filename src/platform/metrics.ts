/**
 * Prometheus metrics (prom-client): one registry per app instance so tests can
 * build many apps side by side. Request rate and latency per route template,
 * plus the counters features register (ingest events, linkage runs).
 */
import type { RequestHandler } from 'express';
import client from 'prom-client';

export class Metrics {
  readonly registry = new client.Registry();
  readonly httpDuration = new client.Histogram({
    name: 'coterie_http_request_duration_seconds',
    help: 'HTTP request latency by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [this.registry],
  });
  readonly ingestEvents = new client.Counter({
    name: 'coterie_ingest_events_total',
    help: 'Events received, by outcome (written, duplicate, rejected: a batch with an invalid event, refused: a valid batch answered with an error, too large, or not written, replayed: a resend under an Idempotency-Key)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly ingestGroupBatches = new client.Histogram({
    name: 'coterie_ingest_group_batches',
    help: 'POST /v1/events batches written together in one transaction (group commit)',
    buckets: [1, 2, 4, 8, 16, 32, 64],
    registers: [this.registry],
  });
  readonly eventIdsPruned = new client.Counter({
    name: 'coterie_ingest_event_ids_pruned_total',
    help: 'Idempotency keys (IngestedEvent nodes) deleted after INGEST_EVENT_ID_RETENTION_DAYS',
    registers: [this.registry],
  });
  readonly linkageRuns = new client.Counter({
    name: 'coterie_linkage_runs_total',
    help: 'Linkage runs finished, by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly linkageDuration = new client.Histogram({
    name: 'coterie_linkage_run_duration_seconds',
    help: 'Linkage run wall time, by outcome',
    labelNames: ['outcome'] as const,
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800],
    registers: [this.registry],
  });

  constructor() {
    client.collectDefaultMetrics({ register: this.registry, prefix: 'coterie_' });
  }

  middleware(): RequestHandler {
    return (req, res, next) => {
      const end = this.httpDuration.startTimer();
      // 'close': a request whose client hung up before the answer is counted too, as
      // status "aborted" (review, 12-06: it was not counted at all).
      res.once('close', () => {
        // Route templates, never raw paths: account ids must not become label values.
        const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
        const status = res.writableFinished ? String(res.statusCode) : 'aborted';
        end({ method: req.method, route, status });
      });
      next();
    };
  }
}
