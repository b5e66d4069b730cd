/**
 * Decides whether an ad-hoc query may run, from Neo4j's own plan of it (EXPLAIN):
 * its query type must be "r" (read only: not "rw", "w" or "s" for schema and
 * DBMS work), and no operator may be LoadCSV (LOAD CSV reads files and URLs
 * even in a read transaction). Writing procedures plan as "w". The read-only
 * session and read transaction remain the second line; this is the first and
 * gives a clear code before anything runs.
 */
import { AppError } from '../platform/errors';

export interface PlanNode {
  operatorType: string;
  children?: PlanNode[];
}

const LOAD_CSV_TEXT = /\bLOAD\s+CSV\b/i;

/** Text check before planning: comments and string literals cannot hide or fake it. */
export function mentionsLoadCsv(text: string): boolean {
  const code = text
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/\/\/[^\n]*/g, ' ')
    .replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|`[^`]*`/g, "''");
  return LOAD_CSV_TEXT.test(code);
}

export function planOperators(plan: PlanNode | false | undefined): string[] {
  if (!plan) return [];
  return [plan.operatorType, ...(plan.children ?? []).flatMap((c) => planOperators(c))];
}

/** Throws 403 write_not_allowed unless the plan is read-only and loads no files. */
export function assertReadOnly(
  text: string,
  queryType: string | undefined,
  plan: PlanNode | false | undefined,
): void {
  if (mentionsLoadCsv(text) || planOperators(plan).some((op) => /^LoadCSV/i.test(op))) {
    throw new AppError('write_not_allowed', 'LOAD CSV is not allowed in ad-hoc queries', {
      details: { reason: 'load_csv' },
    });
  }
  if (queryType !== 'r') {
    throw new AppError('write_not_allowed', 'ad-hoc queries must be read-only', {
      details: { reason: 'not_read_only', queryType: queryType ?? null },
    });
  }
}
