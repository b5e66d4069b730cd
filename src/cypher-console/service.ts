/**
 * Ad-hoc Cypher for analysts (POST /v1/cypher): a read-only session and read
 * transaction with a timeout, a plan check before anything runs (guard.ts),
 * parameters only (values are never spliced into the text), a row cap, and an
 * audit record of who ran what. Driver errors get stable codes: a write the
 * database refuses is 403 write_not_allowed, a bad query 400 bad_request.
 */
import { Neo4jError } from 'neo4j-driver';
import { z } from 'zod';
import type { Context } from '../context';
import { AuditLog, type AuditRecord, type StartedEntry } from '../platform/audit';
import type { Principal } from '../platform/auth';
import { AppError, isAppError } from '../platform/errors';
import { ENDED_UNDER_IT, int, resultTooDeep, toAppError } from '../platform/neo4j';
import {
  assertQueryText,
  nestingDepth,
  operatorCounts,
  QUERY_MAX_ARITHMETIC,
  QUERY_MAX_NESTING,
  QUERY_MAX_XOR,
} from './guard';
import { AnalystQueries, type CappedRows, type Slot } from './run';

/** Limits on `params`: they are stored whole in the audit trail. */
export const PARAMS_MAX_DEPTH = 8;
export const PARAMS_MAX_BYTES = 64 * 1024;

export const cypherRequestSchema = z
  .object({
    query: z
      .string()
      .min(1)
      // abort: zod runs the checks after a failed one, and the nesting scan of a 1 MiB body
      // holds the event loop for every request (review, 12-05)
      .max(20_000, { abort: true })
      .refine((q) => nestingDepth(q) <= QUERY_MAX_NESTING, {
        message: `query may nest at most ${QUERY_MAX_NESTING} levels (brackets, CASE … END, and NOT, - or + in a row)`,
      })
      // one pass over the text for both counts
      .superRefine((q, ctx) => {
        const { xor, arithmetic, chain } = operatorCounts(q);
        if (xor > QUERY_MAX_XOR)
          ctx.addIssue({
            code: 'custom',
            message: `query may hold at most ${QUERY_MAX_XOR} XOR operators (Neo4j's planning doubles with each)`,
          });
        if (arithmetic > QUERY_MAX_ARITHMETIC)
          ctx.addIssue({
            code: 'custom',
            message: `query may hold at most ${QUERY_MAX_ARITHMETIC} arithmetic or concatenation operators (+ - * / % ^ ||; a relationship's dashes count)`,
          });
        // A chain of lookups deepens the same tree: both overflowed Neo4j's stack.
        else if (arithmetic + chain > QUERY_MAX_ARITHMETIC)
          ctx.addIssue({
            code: 'custom',
            message: `query may hold at most ${QUERY_MAX_ARITHMETIC} arithmetic or concatenation operators and property lookups or indexes in a row (m.a.b, l[0][1]) together`,
          });
      })
      .describe(
        `nested at most ${QUERY_MAX_NESTING} levels (brackets, CASE … END, and NOT, - or + in a row), with at most ${QUERY_MAX_XOR} XOR and ${QUERY_MAX_ARITHMETIC} arithmetic or concatenation operators outside strings and comments, the longest run of property lookups and indexes in a row counting towards the ${QUERY_MAX_ARITHMETIC} (400 validation_failed otherwise)`,
      ),
    params: z
      .record(z.string(), z.unknown())
      .default({})
      .refine((p) => depth(p) <= PARAMS_MAX_DEPTH, {
        message: `params may nest at most ${PARAMS_MAX_DEPTH} levels`,
        abort: true,
      })
      .refine((p) => Buffer.byteLength(JSON.stringify(p)) <= PARAMS_MAX_BYTES, {
        message: `params may take at most ${PARAMS_MAX_BYTES} bytes of JSON`,
      })
      .describe(
        `at most ${PARAMS_MAX_DEPTH} levels deep and ${PARAMS_MAX_BYTES} bytes of JSON (400 validation_failed otherwise); a whole number (1.0 too) reaches Cypher as an integer: toFloat($x) for float arithmetic`,
      ),
  })
  .strict()
  .meta({ id: 'CypherRequest' });

export const cypherResultSchema = z
  .object({
    columns: z.array(z.string()),
    rows: z.array(z.record(z.string(), z.unknown())),
    rowCount: z.number().int(),
    truncated: z
      .boolean()
      .describe(
        'true when the row cap (QUERY_MAX_ROWS) or the byte cap (QUERY_MAX_BYTES) cut the result',
      ),
    elapsedMs: z.number(),
  })
  .meta({ id: 'QueryResult' });

export type CypherRequest = z.infer<typeof cypherRequestSchema>;

export class CypherConsole {
  private readonly audit: AuditLog;

  constructor(
    ctx: Context,
    private readonly queries: AnalystQueries,
  ) {
    this.audit = new AuditLog(ctx.db, ctx.cypher, ctx.logger);
  }

  async run(who: Principal, req: CypherRequest) {
    const entry = {
      actor: who,
      action: 'cypher' as const,
      target: 'adhoc',
      params: { query: req.query, params: req.params },
    };
    const work = async (slot: Slot) => {
      assertQueryText(req.query);
      const started = performance.now(); // the query's time, not the audit write's
      const params = driverParams(req.params);
      const result = await slot.run({ text: req.query, params, checkPlan: true });
      return withStats(result, started);
    };
    return auditedQuery(this.audit, this.queries, entry, work, { analystsText: true });
  }
}

/**
 * Audits the query as started, runs it, maps its failure to an AppError, and audits the
 * outcome either way (a query that takes Neo4j or the service down stays "started").
 * One refused at once for want of a slot is audited as a refusal (`AuditLog.refused`).
 */
export async function auditedQuery<T>(
  audit: AuditLog,
  queries: AnalystQueries,
  entry: Omit<AuditRecord, 'outcome'>,
  work: (slot: Slot) => Promise<T>,
  options: { analystsText?: boolean } = {},
): Promise<T> {
  let slot: Slot;
  try {
    slot = queries.reserve(entry.actor.name);
  } catch (err) {
    await audit.refused({ ...entry, outcome: isAppError(err) ? err.code : 'internal' });
    throw err;
  }
  // From here the slot is released whatever throws, and an entry that started is completed.
  let started: StartedEntry | undefined;
  let outcome = 'internal';
  try {
    started = await audit.start(entry);
    const result = await work(slot);
    outcome = 'ok';
    return result;
  } catch (err) {
    const appError = mapQueryError(err, options.analystsText === true);
    outcome = isAppError(appError) ? appError.code : 'internal';
    throw appError;
  } finally {
    slot.release();
    if (started) await audit.complete(started, { ...entry, outcome });
  }
}

export function withStats(result: CappedRows, started: number) {
  return {
    ...result,
    rowCount: result.rows.length,
    elapsedMs: Math.round((performance.now() - started) * 10) / 10,
  };
}

/** How deeply a JSON value nests (a scalar is 0), without recursion. */
function depth(value: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    if (d + 1 > max) max = d + 1;
    if (max > PARAMS_MAX_DEPTH) return max;
    for (const x of Object.values(v)) stack.push([x, d + 1]);
  }
  return max;
}

/** JSON parameters as driver values: whole numbers become Neo4j integers (LIMIT $n works). */
export function driverParams(params: Record<string, unknown>): Record<string, unknown> {
  const convert = (v: unknown): unknown => {
    if (typeof v === 'number' && Number.isSafeInteger(v)) return int(v);
    if (Array.isArray(v)) return v.map(convert);
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, convert(x)]));
    }
    return v;
  };
  return convert(params) as Record<string, unknown>;
}

/**
 * Neo4j's refusal of a write, and errors in the query itself, as AppErrors.
 * `analystsText`: the query is the analyst's own (the console), so an execution failure
 * is theirs too, and so is Neo4j's message; in a saved investigation an execution
 * failure is the service's, a 500, and a client error's message is a fixed text.
 */
export function mapQueryError(err: unknown, analystsText = false): unknown {
  // A value nested so deep that the driver's decoder or the conversion to JSON runs out
  // of stack (found by review: `reduce(l = [], i IN range(1, 3000) | [l])` was a 500).
  if (err instanceof RangeError && /call stack/i.test(err.message)) return resultTooDeep(err);
  if (isAppError(err) || !(err instanceof Neo4jError)) return err;
  if (ENDED_UNDER_IT.has(err.code)) return toAppError(err); // 503, not the analyst's 400
  if (
    err.code === 'Neo.ClientError.Statement.AccessMode' ||
    err.code === 'Neo.ClientError.Security.Forbidden'
  ) {
    return new AppError('write_not_allowed', 'the database refused a write in a read-only query', {
      cause: err,
      details: { reason: 'read_only_transaction', neo4jCode: err.code },
    });
  }
  // Neo4j files some errors of the query's own making (substring with a negative
  // length, shortestPath from a node to itself) under DatabaseError: in the console, the
  // analyst's.
  if (
    err.code.startsWith('Neo.ClientError.') ||
    (analystsText && err.code === 'Neo.DatabaseError.Statement.ExecutionFailed')
  ) {
    // An investigation's text is the service's: Neo4j's message, which can quote the
    // query and the data it read, stays in the log (the cause), not in the answer.
    const message = analystsText ? err.message : 'Neo4j refused the query for these parameters';
    return new AppError('bad_request', message, {
      cause: err,
      details: { neo4jCode: err.code },
    });
  }
  return err;
}
