/**
 * Requests per minute per API key (API_RATE_LIMIT_PER_MINUTE), by express-rate-limit:
 * a leaked analyst key cannot page through every account's cluster at the speed of the
 * network. Ingest keys are not counted (their batches are bounded by the write queue:
 * INGEST_QUEUE_MAX_EVENTS), nor is the local caller with no keys configured, whom only
 * this machine can be. Counted per process: behind several replicas a key gets the
 * limit at each.
 */
import type { RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import { AppError } from './errors';

export function rateLimitPerKey(perMinute: number, keysConfigured: boolean): RequestHandler {
  if (perMinute === 0 || !keysConfigured) return (_req, _res, next) => next();
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    // RateLimit-Policy and RateLimit (IETF draft 8), and Retry-After on a 429.
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    // Runs after authenticate(): the key's name, not the address (one NAT, many keys).
    keyGenerator: (req) => req.principal?.name ?? '',
    // Its checks of how the client's address is read (proxy headers, trust proxy) are
    // for address keys; they would print to the console on a request a proxy forwarded.
    validate: { ip: false, trustProxy: false, xForwardedForHeader: false, forwardedHeader: false },
    skip: (req) => req.principal === undefined || req.principal.role === 'ingest',
    handler: (req, _res, next) =>
      next(
        new AppError(
          'too_many_requests',
          `more than ${perMinute} requests in a minute for this API key; retry after the time Retry-After says`,
          { details: { limitPerMinute: perMinute } },
        ),
      ),
  });
}
