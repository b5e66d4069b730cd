/**
 * POST /v1/events: validate a batch all-or-nothing, then write it in one
 * transaction (shared with batches that arrived meanwhile: group-commit.ts). The
 * body parser's size limit answers 413; too many events, too.
 */
import { Router } from 'express';
import { requireRole } from '../platform/auth';
import { AppError } from '../platform/errors';
import { jsonBody, noQuery, parseInput } from '../platform/http';
import type { Metrics } from '../platform/metrics';
import { batchSchema } from './event-schema';
import { cleanBatch, unknownFields } from './validate';
import type { CleanEvent } from './event-schema';
import type { WriteResult } from './writer';

export function ingestRoutes(deps: {
  /** one transaction per call, or shared with concurrent calls (GroupCommit) */
  writer: { write(events: readonly CleanEvent[]): Promise<WriteResult> };
  maxEvents: number;
  /** largest body (413 past it): parsed only for an ingest key */
  maxBodyBytes: number;
  metrics: Metrics;
}): Router {
  const router = Router();
  const parseBody = jsonBody(deps.maxBodyBytes);
  /** The batch's events, cleaned (prompts as fingerprints only), or throws 400 / 413. */
  const validBatch = (input: unknown): CleanEvent[] => {
    const body = batchSchema.safeParse(input);
    if (!body.success) {
      throw new AppError('validation_failed', 'body must be {"events": [ … ]}', {
        details: body.error.issues.map((i) => ({
          index: null,
          path: i.path.join('.'),
          // a key's name is cut as inside an event: it may carry a prompt's text
          message: i.code === 'unrecognized_keys' ? unknownFields(i.keys) : i.message,
        })),
      });
    }
    const raws = body.data.events;
    if (raws.length > deps.maxEvents) {
      throw new AppError('payload_too_large', `a batch holds at most ${deps.maxEvents} events`, {
        details: { maxEvents: deps.maxEvents, received: raws.length },
      });
    }
    const cleaned = cleanBatch(raws);
    if (!cleaned.ok) {
      deps.metrics.ingestEvents.inc({ outcome: 'rejected' }, raws.length);
      throw new AppError('validation_failed', 'batch rejected: some events are invalid', {
        details: cleaned.issues,
      });
    }
    return cleaned.events;
  };

  router.post('/v1/events', requireRole('ingest'), parseBody, async (req, res) => {
    parseInput(noQuery, req.query);
    const events = validBatch(req.body);
    // The parsed body (prompts' text included) is not held while the batch waits for its
    // write: the queue bound counts events, and a queued body can be megabytes.
    req.body = undefined;
    const result = await deps.writer.write(events);
    deps.metrics.ingestEvents.inc({ outcome: 'written' }, result.written);
    deps.metrics.ingestEvents.inc({ outcome: 'duplicate' }, result.duplicates);
    res
      .status(200)
      .json({ received: result.received, new: result.written, duplicates: result.duplicates });
  });
  return router;
}
