/**
 * POST /v1/events: validate a batch all-or-nothing, then write it in one
 * transaction (shared with batches that arrived meanwhile: group-commit.ts). The
 * body parser's size limit answers 413; too many events, too.
 */
import { createHash } from 'node:crypto';
import { Router } from 'express';
import { requireRole } from '../platform/auth';
import { AppError } from '../platform/errors';
import { jsonBody, noQuery, parseInput } from '../platform/http';
import type { Metrics } from '../platform/metrics';
import { idempotencyKey } from '../platform/idempotency-key';
import { batchSchema } from './event-schema';
import { cleanBatch, unknownFields } from './validate';
import type { CleanEvent } from './event-schema';
import type { BatchKey, WriteResult } from './writer';

export function ingestRoutes(deps: {
  /** one transaction per call, or shared with concurrent calls (GroupCommit) */
  writer: {
    write(events: readonly CleanEvent[], batchKey?: BatchKey): Promise<WriteResult>;
    /** throws database_busy when the batch would not be queued (GroupCommit) */
    refuseIfFull?(events: number): void;
  };
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
          message:
            i.code === 'unrecognized_keys'
              ? unknownFields(i.keys, 'a batch, beside its events,')
              : i.message,
        })),
      });
    }
    const raws = body.data.events;
    if (raws.length > deps.maxEvents) {
      deps.metrics.ingestEvents.inc({ outcome: 'refused' }, raws.length);
      throw new AppError('payload_too_large', `a batch holds at most ${deps.maxEvents} events`, {
        details: { maxEvents: deps.maxEvents, received: raws.length },
      });
    }
    try {
      deps.writer.refuseIfFull?.(raws.length); // before the batch's prompts are fingerprinted
    } catch (err) {
      deps.metrics.ingestEvents.inc({ outcome: 'refused' }, raws.length);
      throw err;
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
    const header = idempotencyKey(req);
    const events = validBatch(req.body);
    // The parsed body (prompts' text included) is not held while the batch waits for its
    // write: the queue bound counts events, and a queued body can be megabytes.
    req.body = undefined;
    const batchKey =
      header === undefined ? undefined : keyOfBatch(req.principal?.name ?? '', header, events);
    // A write answered with an error (422 key reused, 503, 504, 500) is counted refused:
    // not written, or not known to be (a commit whose answer was lost).
    const result = await deps.writer.write(events, batchKey).catch((err: unknown) => {
      deps.metrics.ingestEvents.inc({ outcome: 'refused' }, events.length);
      throw err;
    });
    if (result.replayed) {
      // Not again as written: counted there when the first request was answered (not at
      // all when its answer was lost, e.g. a 503 after a commit that went through).
      deps.metrics.ingestEvents.inc({ outcome: 'replayed' }, result.received);
      res.setHeader('idempotent-replayed', 'true');
    } else {
      deps.metrics.ingestEvents.inc({ outcome: 'written' }, result.written);
      deps.metrics.ingestEvents.inc({ outcome: 'duplicate' }, result.duplicates);
    }
    res
      .status(200)
      .json({ received: result.received, new: result.written, duplicates: result.duplicates });
  });
  return router;
}

/**
 * A key as stored: the caller's name and the header hashed together (keys of callers with
 * other names never meet), and a digest of the cleaned events (fingerprints, not prompts), each
 * event's fields in name order so that a resend's JSON may order them otherwise.
 */
export function keyOfBatch(
  caller: string,
  header: string,
  events: readonly CleanEvent[],
): BatchKey {
  const key = createHash('sha256').update(caller).update('\n').update(header).digest('hex');
  // Versioned, and only the fields an event has: a field added to CleanEvent later (absent,
  // undefined) does not change an older batch's digest, so its resend across an upgrade
  // is still its replay, not a 422.
  const digest = createHash('sha256').update('batch-digest-v1\n');
  for (const e of events) {
    const fields = Object.entries(e)
      .filter(([, v]) => v !== undefined && v !== null)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    digest.update(JSON.stringify(fields)).update('\n');
  }
  return { key, digest: digest.digest('hex') };
}
