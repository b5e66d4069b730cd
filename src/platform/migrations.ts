/**
 * Applies cypher/migrations/*.cypher in name order at start-up. Each file is one
 * idempotent statement (IF NOT EXISTS); each applied file is recorded as a
 * (:Migration {name, checksum, appliedAt}) node so it runs once, and a file that
 * changed after being applied stops start-up instead of silently diverging.
 */
import { createHash } from 'node:crypto';
import type { CypherMap } from './cypher';
import type { Database } from './neo4j';

const BOOTSTRAP =
  'CREATE CONSTRAINT migration_name_unique IF NOT EXISTS FOR (n:Migration) REQUIRE n.name IS UNIQUE';

export interface MigrationResult {
  applied: string[];
  skipped: string[];
}

export interface MigrateOptions {
  /** progress while indexes populate (a new index on a large graph takes minutes) */
  log?: (message: string) => void;
  /** how often the indexes' states are read, and progress said (ms) */
  pollMs?: number;
  progressMs?: number;
}

export async function migrate(
  db: Database,
  cypher: CypherMap,
  opts: MigrateOptions = {},
): Promise<MigrationResult> {
  await db.write((tx) => tx.run(BOOTSTRAP));
  const done = await db.read(async (tx) => {
    const res = await tx.run('MATCH (m:Migration) RETURN m.name AS name, m.checksum AS checksum');
    return new Map(res.records.map((r) => [r.get('name') as string, r.get('checksum') as string]));
  });
  const result: MigrationResult = { applied: [], skipped: [] };
  const pending: { name: string; text: string; checksum: string }[] = [];
  for (const name of migrationNames(cypher)) {
    const text = cypher.get(`migrations/${name}`) as string;
    const checksum = createHash('sha256').update(text).digest('hex');
    const previous = done.get(name);
    if (previous === undefined) pending.push({ name, text, checksum });
    else if (previous !== checksum) {
      throw new Error(
        `migration ${name} changed after it was applied; add a new migration instead`,
      );
    } else result.skipped.push(name);
  }
  // Runs of schema statements share one transaction (each schema commit costs ~0.1 s,
  // which every fresh database paid 27 times); anything else runs alone. Each run is
  // recorded after it commits; a crash in between re-runs idempotent statements.
  for (const group of inOrderGroups(pending)) {
    await db.write(async (tx) => {
      for (const m of group) await tx.run(m.text);
    });
    await db.write((tx) =>
      tx.run(
        `UNWIND $rows AS row
         MERGE (m:Migration {name: row.name}) ON CREATE SET m.checksum = row.checksum, m.appliedAt = datetime()`,
        { rows: group.map(({ name, checksum }) => ({ name, checksum })) },
      ),
    );
    result.applied.push(...group.map((m) => m.name));
  }
  const failed = await indexesOnline(db, opts);
  if (failed) {
    // A failed index stays failed until it is dropped. The migrations that
    // create it are forgotten, so the start after the drop creates it anew.
    const schemaName = failed.owningConstraint ?? failed.name;
    const creators = migrationNames(cypher).filter((name) =>
      createsSchema(cypher.get(`migrations/${name}`) as string, schemaName),
    );
    await db.write((tx) =>
      tx.run('MATCH (m:Migration) WHERE m.name IN $creators DELETE m', { creators }),
    );
    const drop = failed.owningConstraint
      ? `DROP CONSTRAINT ${failed.owningConstraint}`
      : `DROP INDEX ${failed.name}`;
    throw new Error(
      // Neo4j's message is followed by its stack trace: the first line says why.
      `index ${failed.name} failed to populate: ${(failed.failureMessage ?? '?').split('\n')[0]}; ` +
        `fix the data, run ${drop}, and start again (the start creates it anew)`,
    );
  }
  return result;
}

/** Whether a migration's statement creates the index or constraint of this name. */
export function createsSchema(text: string, schemaName: string): boolean {
  const escaped = schemaName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`\\bCREATE\\s+(?:[A-Z]+\\s+)*(?:INDEX|CONSTRAINT)\\s+${escaped}\\b`, 'i').test(
    text,
  );
}

interface IndexState {
  name: string;
  state: string;
  populationPercent: number | null;
  failureMessage: string | null;
  owningConstraint: string | null;
}

/**
 * Waits until every index is online, saying how far the populating ones are, or one has
 * failed (returned). No time cap: populating a new index on a large graph takes as long
 * as the graph needs; a stop ends the wait by closing the database. Read in write sessions: on a
 * cluster, where the schema was just written, not a secondary that may lag.
 */
async function indexesOnline(db: Database, opts: MigrateOptions): Promise<IndexState | undefined> {
  const pollMs = opts.pollMs ?? 200;
  const progressMs = opts.progressMs ?? 10_000;
  let saidAt = Date.now();
  for (;;) {
    const pending = await db.write(async (tx) => {
      const res = await tx.run(
        `SHOW INDEXES YIELD name, state, populationPercent, failureMessage, owningConstraint
         WHERE state <> 'ONLINE'
         RETURN name, state, populationPercent, failureMessage, owningConstraint`,
      );
      return res.records.map((r) => r.toObject() as IndexState);
    });
    if (pending.length === 0) return undefined;
    const failed = pending.find((i) => i.state === 'FAILED');
    if (failed) return failed;
    if (Date.now() - saidAt >= progressMs) {
      saidAt = Date.now();
      const states = pending.map((i) => `${i.name} ${(i.populationPercent ?? 0).toFixed(1)} %`);
      opts.log?.(`waiting for indexes to populate: ${states.join(', ')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

const SCHEMA = /^\s*(CREATE|DROP)\s+[A-Z ]*\b(CONSTRAINT|INDEX)\b/i;

/** Consecutive schema statements together, any other statement in a group of its own. */
export function inOrderGroups<T extends { text: string }>(pending: T[]): T[][] {
  const groups: T[][] = [];
  let schema: T[] = [];
  for (const m of pending) {
    const statement = m.text.replace(/^\s*\/\/.*$/gm, '');
    if (SCHEMA.test(statement)) schema.push(m);
    else {
      if (schema.length > 0) groups.push(schema);
      schema = [];
      groups.push([m]);
    }
  }
  if (schema.length > 0) groups.push(schema);
  return groups;
}

/** The migration files' names (as `Migration.name` records them), in the order they apply. */
function migrationNames(cypher: CypherMap): string[] {
  return [...cypher.keys()]
    .filter((k) => k.startsWith('migrations/'))
    .map((k) => k.slice('migrations/'.length))
    .sort();
}

/** True when every migration file has been applied (readiness). */
export async function migrationsApplied(db: Database, cypher: CypherMap): Promise<boolean> {
  // By name: a record of a migration since removed must not stand in for a missing one.
  const names = migrationNames(cypher);
  const count = await db.read(async (tx) => {
    const res = await tx.run('MATCH (m:Migration) WHERE m.name IN $names RETURN count(m) AS n', {
      names,
    });
    return Number(res.records[0]?.get('n') ?? 0);
  });
  return count === names.length;
}
