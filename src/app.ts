/**
 * Assembles the Express app from its features. Order matters: open routes
 * (health; the API docs too with OPENAPI_PUBLIC) first, then authentication,
 * then the feature routers, then the 404 fallback and the single error handler.
 */
import express, { type Express } from 'express';
import type { Context } from './context';
import { healthRoutes } from './health/routes';
import { ingestRoutes } from './ingest/routes';
import { rateLimitPerKey } from './platform/rate-limit';
import { GroupCommit } from './ingest/group-commit';
import { EventWriter } from './ingest/writer';
import { linkageRoutes } from './linkage/routes';
import { accessLog } from './platform/access-log';
import { authenticate, requireRole } from './platform/auth';
import { errorHandler, jsonBody, notFound } from './platform/http';
import { openApiRoutes } from './platform/openapi';
import { accountRoutes } from './accounts/routes';
import { clusterRoutes } from './clusters/routes';
import { cypherConsoleRoutes } from './cypher-console/routes';
import { AnalystQueries } from './cypher-console/run';
import { investigationRoutes } from './investigations/routes';
import { verdictRoutes } from './verdicts/routes';

/**
 * Largest body of every route but POST /v1/events: the biggest they take is a console
 * query (20,000 characters, 64 KiB of parameters), a few hundred KiB even escaped.
 */
export const OTHER_MAX_BODY_BYTES = 1024 * 1024;

export function createApp(ctx: Context): Express {
  const app = express();
  app.disable('x-powered-by');
  // JSON reads change with every run; clients poll by run id, not by conditional GET.
  app.disable('etag');
  app.set('trust proxy', false);
  // Request logs are written at info; below that level nothing is mounted.
  if (ctx.logger.isLevelEnabled('info')) {
    app.use(accessLog(ctx.logger, (path) => path === '/healthz'));
  }
  app.use(ctx.metrics.middleware());
  // No route takes OPTIONS: Express would answer it itself, in text/plain, listing the
  // path's methods (review, 12-07). A 404 in the one error shape, as for PUT.
  app.use((req, res, next) => (req.method === 'OPTIONS' ? notFound(req, res, next) : next()));
  app.use(healthRoutes(ctx));
  // The API's description holds no data but maps every route: behind a key like all
  // but health, unless OPENAPI_PUBLIC opens it (e.g. to browse /docs).
  if (ctx.config.OPENAPI_PUBLIC) app.use(openApiRoutes(ctx.config.CYPHER_CONSOLE));

  app.use(authenticate(ctx.keys));
  app.use(rateLimitPerKey(ctx.config.API_RATE_LIMIT_PER_MINUTE, ctx.keys.length > 0));
  if (!ctx.config.OPENAPI_PUBLIC) app.use(openApiRoutes(ctx.config.CYPHER_CONSOLE));
  app.get('/metrics', requireRole('metrics'), async (_req, res) => {
    res.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
  });
  // Ingest parses its own bodies, up to INGEST_MAX_BODY_BYTES and only for an ingest key;
  // every other body is parsed before its route's role check, so it gets a small limit.
  app.use(
    ingestRoutes({
      writer: new GroupCommit(
        new EventWriter(ctx.db, ctx.cypher, ctx.config.INGEST_WRITE_CONCURRENCY),
        {
          maxEvents: ctx.config.INGEST_GROUP_MAX_EVENTS,
          maxInFlight: ctx.config.INGEST_WRITE_CONCURRENCY,
          maxQueuedEvents: ctx.config.INGEST_QUEUE_MAX_EVENTS,
          onGroup: (batches) => ctx.metrics.ingestGroupBatches.observe(batches),
        },
      ),
      maxEvents: ctx.config.INGEST_MAX_EVENTS,
      maxBodyBytes: ctx.config.INGEST_MAX_BODY_BYTES,
      metrics: ctx.metrics,
    }),
  );
  app.use(jsonBody(OTHER_MAX_BODY_BYTES));

  app.use(accountRoutes(ctx));
  app.use(clusterRoutes(ctx));
  app.use(verdictRoutes(ctx));
  // One limit on analysts' queries for both routes.
  const queries = new AnalystQueries(ctx);
  app.use(investigationRoutes(ctx, queries));
  app.use(cypherConsoleRoutes(ctx, queries));
  app.use(linkageRoutes(ctx));

  app.use(notFound);
  app.use(errorHandler(ctx.logger));
  return app;
}
