/**
 * What one analyst query does inside its read transaction, wherever it runs (a query
 * worker, or this thread without connection options): the analyst's own text has its
 * plan checked read-only first (guard.ts), then the result is read under both caps.
 * A spec is plain data, so it can be posted to a worker; its parameters may hold driver
 * Integers, packed for the trip by packParams.
 */
import neo4j, { Neo4jError } from 'neo4j-driver';
import { type QueryRunner, recordToPlain } from '../platform/neo4j';
import { assertReadOnly, type PlanNode } from './guard';

export interface QuerySpec {
  text: string;
  /** driver values: whole numbers as Neo4j Integers where the query needs them */
  params: Record<string, unknown>;
  /** the analyst's own text (the console): its plan is checked before it runs */
  checkPlan: boolean;
  /** JSON bytes the caller adds to each row after the query (an investigation's `aged`) */
  rowExtraBytes?: number;
}

export async function executeQuery(
  tx: QueryRunner,
  spec: QuerySpec,
  caps: Caps,
): Promise<CappedRows> {
  if (spec.checkPlan) {
    const plan = await tx.run(`${EXPLAIN}${spec.text}`, spec.params).catch((err: unknown) => {
      throw err instanceof Neo4jError
        ? Object.assign(err, { message: withoutExplain(err.message) })
        : err;
    });
    assertReadOnly(
      spec.text,
      plan.summary.queryType,
      plan.summary.plan as PlanNode | false | undefined,
    );
  }
  return runCapped(tx, spec.text, spec.params, caps, spec.rowExtraBytes);
}

/**
 * Parameters as structured-clone data: a posted Integer would arrive as a plain
 * `{low, high}` map. Every object, list and Integer is tagged, so no analyst's JSON can
 * pass for one.
 */
export type Packed =
  string | number | boolean | null | ['i', string] | ['a', Packed[]] | ['o', [string, Packed][]];

export function packParams(params: Record<string, unknown>): Packed {
  const pack = (v: unknown): Packed => {
    if (neo4j.isInt(v)) return ['i', v.toString()];
    if (Array.isArray(v)) return ['a', v.map(pack)];
    if (v !== null && typeof v === 'object') {
      return ['o', Object.entries(v).map(([k, x]) => [k, pack(x)] as [string, Packed])];
    }
    return v as string | number | boolean | null;
  };
  return pack(params);
}

export function unpackParams(packed: Packed): Record<string, unknown> {
  const unpack = (v: Packed): unknown => {
    if (!Array.isArray(v)) return v;
    if (v[0] === 'i') return neo4j.int(v[1]);
    if (v[0] === 'a') return v[1].map(unpack);
    return Object.fromEntries(v[1].map(([k, x]) => [k, unpack(x)]));
  };
  return unpack(packed) as Record<string, unknown>;
}

const EXPLAIN = 'EXPLAIN ';

/**
 * Neo4j's error for the plan check quotes the query with our `EXPLAIN ` in front and
 * counts it in columns and offsets: give the analyst their own query's positions.
 */
export function withoutExplain(message: string): string {
  const n = EXPLAIN.length;
  let firstLine = false;
  return message
    .replace(/\(line (\d+), column (\d+) \(offset: (\d+)\)\)/, (_m, line, column, offset) => {
      firstLine = Number(line) <= 1;
      const c = firstLine ? Math.max(0, Number(column) - n) : Number(column);
      return `(line ${line}, column ${c} (offset: ${Math.max(0, Number(offset) - n)}))`;
    })
    .replace(/\n"EXPLAIN ([^\n]*)"\n( *)\^/, (_m, query: string, pad: string) =>
      firstLine ? `\n"${query}"\n${pad.slice(n)}^` : `\n"${query}"\n${pad}^`,
    );
}

export interface CappedRows {
  columns: string[];
  rows: Record<string, unknown>[];
  truncated: boolean;
}

export interface Caps {
  maxRows: number;
  maxBytes: number;
}

/**
 * Reads the stream record by record and stops at the first record past either cap
 * (`truncated: true`, that record not kept); leaving the loop makes the driver discard
 * the rest of the result on the server, pulling nothing more. `rowExtraBytes` counts
 * what the caller will add to each row, so the answer it sends stays within the cap.
 */
export async function runCapped(
  tx: QueryRunner,
  text: string,
  params: Record<string, unknown>,
  caps: Caps,
  rowExtraBytes = 0,
): Promise<CappedRows> {
  const result = tx.run(text, params);
  const rows: Record<string, unknown>[] = [];
  let bytes = 0;
  let truncated = false;
  for await (const record of result) {
    if (rows.length >= caps.maxRows) {
      truncated = true;
      break;
    }
    const row = recordToPlain(record);
    bytes += Buffer.byteLength(JSON.stringify(row)) + rowExtraBytes;
    if (bytes > caps.maxBytes) {
      truncated = true;
      break;
    }
    rows.push(row);
  }
  const keys = await result.keys();
  return { columns: keys.map(String), rows, truncated };
}
