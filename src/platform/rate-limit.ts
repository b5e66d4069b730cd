/**
 * Requests per minute per API key (API_RATE_LIMIT_PER_MINUTE), by express-rate-limit:
 * a leaked analyst key is slowed to that pace. Batches of events (POST /v1/events, by an
 * ingest or admin key) are not counted: the write queue bounds them
 * (INGEST_QUEUE_MAX_EVENTS). Nor is the local caller with no keys configured, whom only
 * this machine can be. Counted per process: behind several replicas a key gets the
 * limit at each.
 */
import type { Request, RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { Role } from './auth';
import { AppError } from './errors';

/** The ingest route as Express matches it: any case, an optional trailing slash. */
const INGEST_ROUTE = /^\/v1\/events\/?$/i;

export function isIngestBatch(req: Pick<Request, 'method' | 'path'>): boolean {
  return req.method === 'POST' && INGEST_ROUTE.test(req.path);
}

const INGESTING: ReadonlySet<Role> = new Set<Role>(['ingest', 'admin']);

export function rateLimitPerKey(perMinute: number, keysConfigured: boolean): RequestHandler {
  if (perMinute === 0 || !keysConfigured) return (_req, _res, next) => next();
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    // RateLimit-Policy and RateLimit (IETF draft 8) on what it counts; Retry-After on a 429.
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    // Runs after authenticate(): the key's name, not the address (one NAT, many keys).
    keyGenerator: (req) => req.principal?.name ?? '',
    // Only for the roles that may send one: other keys' refused batches are counted too
    // (review, 12-05), or a leaked analyst key could send them without end.
    skip: (req) =>
      req.principal === undefined || (isIngestBatch(req) && INGESTING.has(req.principal.role)),
    handler: (_req, _res, next) =>
      next(
        new AppError(
          'too_many_requests',
          `more than ${perMinute} requests in a minute for this API key; retry after the time Retry-After says`,
          { details: { limitPerMinute: perMinute } },
        ),
      ),
  });
}
