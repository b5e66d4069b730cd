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

export async function migrate(db: Database, cypher: CypherMap): Promise<MigrationResult> {
  await db.write((tx) => tx.run(BOOTSTRAP));
  const done = await db.read(async (tx) => {
    const res = await tx.run('MATCH (m:Migration) RETURN m.name AS name, m.checksum AS checksum');
    return new Map(res.records.map((r) => [r.get('name') as string, r.get('checksum') as string]));
  });
  const result: MigrationResult = { applied: [], skipped: [] };
  const names = [...cypher.keys()].filter((k) => k.startsWith('migrations/')).sort();
  for (const key of names) {
    const name = key.slice('migrations/'.length);
    const text = cypher.get(key) as string;
    const checksum = createHash('sha256').update(text).digest('hex');
    const previous = done.get(name);
    if (previous !== undefined) {
      if (previous !== checksum) {
        throw new Error(
          `migration ${name} changed after it was applied; add a new migration instead`,
        );
      }
      result.skipped.push(name);
      continue;
    }
    // Schema changes cannot share a transaction with data writes: two transactions.
    await db.write((tx) => tx.run(text));
    await db.write((tx) =>
      tx.run(
        'MERGE (m:Migration {name: $name}) ON CREATE SET m.checksum = $checksum, m.appliedAt = datetime()',
        {
          name,
          checksum,
        },
      ),
    );
    result.applied.push(name);
  }
  await db.write((tx) => tx.run('CALL db.awaitIndexes(300)'));
  return result;
}

/** True when every migration file has been applied (readiness). */
export async function migrationsApplied(db: Database, cypher: CypherMap): Promise<boolean> {
  const expected = [...cypher.keys()].filter((k) => k.startsWith('migrations/')).length;
  const count = await db.read(async (tx) => {
    const res = await tx.run('MATCH (m:Migration) RETURN count(m) AS n');
    return Number(res.records[0]?.get('n') ?? 0);
  });
  return count >= expected;
}
