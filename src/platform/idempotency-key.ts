/**
 * The Idempotency-Key header, as event batches and verdicts take it: a client's resend
 * under the same key is answered as the first request was, not done again.
 */
import type { Request } from 'express';
import { IDEMPOTENCY_KEY } from '../ingest/event-schema';
import { AppError } from './errors';

/** The request's Idempotency-Key header, or 400 when it is not one. */
export function idempotencyKey(req: Request): string | undefined {
  const header = req.headers['idempotency-key'];
  if (header === undefined) return undefined;
  if (typeof header === 'string' && IDEMPOTENCY_KEY.test(header)) return header;
  throw new AppError(
    'validation_failed',
    'Idempotency-Key must be 1 to 255 visible ASCII characters, sent once',
    { details: [{ index: null, path: 'Idempotency-Key', message: 'not a key' }] },
  );
}
