/**
 * The linkage routes' request and response shapes, one zod schema each: the routes
 * validate with them and the OpenAPI document is generated from them.
 */
import { z } from 'zod';
import { IDENTIFIER_KINDS, type IdentifierKind } from './types';

export const runBody = z
  .object({
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 32 - 1)
      .optional(),
  })
  .strict();
export const runIdParam = z.object({ id: z.string().min(1).max(256) });
export const listQuery = z.object({ limit: z.coerce.number().int().min(1).max(200).default(20) });
const kind = z.enum(IDENTIFIER_KINDS as unknown as [IdentifierKind, ...IdentifierKind[]]);
export const entryBody = z
  .object({ kind, value: z.string().min(1).max(256), note: z.string().max(1000).optional() })
  .strict();
export const entryKeyInput = z.object({ kind, value: z.string().min(1).max(256) });

const jsonObject = z.record(z.string(), z.unknown());

export const runAccepted = z.object({ runId: z.string() }).meta({ id: 'RunAccepted' });
export const runStatus = z
  .object({
    id: z.string(),
    status: z.enum(['running', 'succeeded', 'failed']),
    phase: z.string().nullable(),
    progress: z.number(),
    trigger: z.enum(['cron', 'cli', 'api']),
    seed: z.number().int(),
    current: z.boolean(),
    startedAt: z.string().nullable().describe('ISO-8601'),
    finishedAt: z.string().nullable().describe('ISO-8601'),
    params: jsonObject,
    timings: jsonObject.describe('milliseconds per phase'),
    stats: jsonObject,
    dissolved: z.array(z.unknown()),
    error: z.string().nullable(),
  })
  .meta({ id: 'LinkageRun' });
export const allowlistEntry = z
  .object({
    kind,
    value: z.string(),
    source: z.enum(['config', 'api', 'verdict']),
    note: z.string().nullable(),
    addedBy: z.string().nullable(),
    addedAt: z.string().nullable().describe('ISO-8601'),
    deletable: z.boolean(),
  })
  .meta({ id: 'AllowlistEntry' });
