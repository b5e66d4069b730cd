/**
 * Decides whether an ad-hoc query may run, from Neo4j's own plan of it (EXPLAIN):
 * - its query type must be "r" (read only: not "rw", "w" or "s" for schema and
 *   DBMS work; writing procedures plan as "w");
 * - no operator may be LoadCSV (LOAD CSV reads files and URLs even in a read
 *   transaction);
 * - commands other than schema listings are refused: SHOW TRANSACTIONS (other
 *   sessions' queries and parameters), TERMINATE TRANSACTIONS and SHOW SETTINGS
 *   all plan as "r", and the service uses one database identity for everyone;
 * - procedures are allow-listed: several that plan as "r" still act on the
 *   server (db.clearQueryCaches is "s", but db.prepareForReplanning and
 *   db.resampleOutdatedIndexes are "r").
 * The read-only session and read transaction remain the second line; this is
 * the first and gives a clear code before anything runs.
 */
import { AppError } from '../platform/errors';

export interface PlanNode {
  operatorType: string;
  /** for ProcedureCall, Details is the resolved signature, e.g. "db.labels() :: (label :: STRING)" */
  arguments?: { Details?: unknown };
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

/** Commands an analyst may run: schema and catalogue listings only. */
const ALLOWED_COMMANDS = new Set([
  'ShowIndexes',
  'ShowConstraints',
  'ShowFunctions',
  'ShowProcedures',
]);

/** Procedures an analyst may call: ones that read the schema and nothing else. */
export const ALLOWED_PROCEDURES = new Set([
  'db.labels',
  'db.relationshipTypes',
  'db.propertyKeys',
  'db.schema.visualization',
  'db.schema.nodeTypeProperties',
  'db.schema.relTypeProperties',
]);

function planNodes(plan: PlanNode | false | undefined): PlanNode[] {
  if (!plan) return [];
  return [plan, ...(plan.children ?? []).flatMap((c) => planNodes(c))];
}

export function planOperators(plan: PlanNode | false | undefined): string[] {
  return planNodes(plan).map((n) => n.operatorType);
}

/** "ShowTransactions@neo4j" → "ShowTransactions" */
const operatorName = (node: PlanNode) => node.operatorType.replace(/@.*$/, '');

/** The procedure a ProcedureCall node calls, from its resolved signature. */
export function procedureName(node: PlanNode): string | undefined {
  const details = node.arguments?.Details;
  return typeof details === 'string' ? /^([\w.]+)\(/.exec(details)?.[1] : undefined;
}

/**
 * Throws 403 write_not_allowed (details.reason says why) unless the plan is read-only,
 * loads no files, runs no command but a schema listing and calls only allow-listed procedures.
 */
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
  // Commands and procedures first: a DBMS procedure plans as "s", and "procedure X is
  // not allowed" with the allowed list tells the analyst more than "not read-only".
  for (const node of planNodes(plan)) {
    const op = operatorName(node);
    if (/^(Show|Terminate)/.test(op) && !ALLOWED_COMMANDS.has(op)) {
      throw new AppError('write_not_allowed', `${op} is not allowed in ad-hoc queries`, {
        details: { reason: 'command', operator: op },
      });
    }
    if (op === 'ProcedureCall') {
      const name = procedureName(node);
      if (name === undefined || !ALLOWED_PROCEDURES.has(name)) {
        throw new AppError('write_not_allowed', `procedure ${name ?? '(unknown)'} is not allowed`, {
          details: {
            reason: 'procedure',
            procedure: name ?? null,
            allowed: [...ALLOWED_PROCEDURES],
          },
        });
      }
    }
  }
  if (queryType !== 'r') {
    throw new AppError('write_not_allowed', 'ad-hoc queries must be read-only', {
      details: { reason: 'not_read_only', queryType: queryType ?? null },
    });
  }
}
