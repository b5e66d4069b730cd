/** Request shapes of the verdict routes (zod), shared with the OpenAPI document. */
import { z } from 'zod';
import { epochMs, pageCursor, verdictSchema } from '../clusters/schemas';
import { AUDIT_ACTIONS } from '../platform/audit';
import { wholeNumberParam } from '../platform/number-text';
import { unicodeText } from '../platform/unicode-text';

export const verdictRequestSchema = z
  .object({
    verdict: z.enum(['confirmed', 'benign']),
    note: unicodeText(1, 4000),
    allowlistSharedValues: z
      .boolean()
      .default(false)
      .describe(
        "benign only, admin key only (403 forbidden, details.reason allowlist_requires_admin, otherwise): allow-list the cluster's shared values (of run `runId`) for the next run",
      ),
    runId: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe(
        'the run whose version of the cluster was reviewed (`runId` of GET /v1/clusters/{id}); 409 when another run is current. Required with allowlistSharedValues, so only reviewed values are allow-listed',
      ),
  })
  .strict()
  .refine((v) => v.verdict === 'benign' || !v.allowlistSharedValues, {
    message: 'only a benign verdict can allow-list shared values',
    path: ['allowlistSharedValues'],
  })
  .refine((v) => !v.allowlistSharedValues || v.runId !== undefined, {
    message: 'allowlistSharedValues needs the runId of the version reviewed',
    path: ['runId'],
  })
  .meta({ id: 'VerdictRequest' });

export const verdictResponseSchema = z
  .object({
    verdict: verdictSchema,
    allowlisted: z.array(z.object({ kind: z.string(), value: z.string(), created: z.boolean() })),
  })
  .meta({ id: 'VerdictRecorded' });

export const listVerdictsQuery = z
  .object({
    since: z.iso
      .datetime({ offset: true })
      .optional()
      .describe(
        'verdicts at or after: an ISO-8601 date-time with seconds and an offset, e.g. 2026-01-01T00:00:00Z, a + in the offset sent as %2B (a date alone is 400)',
      ),
    verdict: z.enum(['confirmed', 'benign']).optional(),
    clusterId: z.string().min(1).max(256).optional().describe("one cluster's verdicts (stable id)"),
    limit: wholeNumberParam(z.number().int().min(1).max(1000).default(100)),
    cursor: pageCursor,
  })
  .strict();

export const verdictListSchema = z
  .object({ verdicts: z.array(verdictSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'VerdictList' });

export const listAuditQuery = z
  .object({
    action: z.enum(AUDIT_ACTIONS).optional(),
    limit: wholeNumberParam(z.number().int().min(1).max(1000).default(100)),
    cursor: pageCursor,
  })
  .strict();

export const auditListSchema = z
  .object({
    entries: z.array(
      z.object({
        id: z.string(),
        actor: z.string(),
        role: z.string(),
        action: z.string(),
        target: z.string(),
        params: z.unknown(),
        outcome: z
          .string()
          .describe(
            '"ok" or the error code it ended with; "outcome_unknown" when a verdict\'s or allow-list change\'s write failed (503, 500) after it may have committed, the code in params.error; "started" while an investigation or Cypher query runs, and for good if it never ended',
          ),
        at: epochMs(),
        endedAt: epochMs()
          .optional()
          .describe(
            'investigations and Cypher: when the query ended (absent while "started", and for one refused before it ran, such as too_many_queries)',
          ),
        repeats: z
          .number()
          .int()
          .optional()
          .describe(
            'too_many_queries: later refusals of the same actor and action within 10 s of this one, counted here rather than stored one each (each has its log line)',
          ),
      }),
    ),
    nextCursor: z.string().nullable(),
  })
  .meta({ id: 'AuditList' });
