/**
 * Migrations against a real Neo4j: start-up waits for new indexes to populate, says how
 * far they are, and stops with Neo4j's reason when one fails (it had waited at most 300 s,
 * silently, for every index).
 */
import { loadCypher } from '../../src/platform/cypher';
import { migrate } from '../../src/platform/migrations';
import type { Database } from '../../src/platform/neo4j';
import { migratedDatabase, startTestNeo4j, type TestNeo4j } from '../support/neo4j';

let neo4j: TestNeo4j;
let db: Database;
const cypher = loadCypher();

beforeAll(async () => {
  neo4j = await startTestNeo4j();
  db = await migratedDatabase(neo4j, cypher);
});

afterAll(async () => {
  await db?.close();
  await neo4j?.stop();
});

/** The shipped migrations plus one more, as a later release would add it. */
function withMigration(name: string, text: string) {
  const more = new Map(cypher);
  more.set(`migrations/${name}`, text);
  return more;
}

describe('migrate', () => {
  it('applies a new index migration and waits for the index, saying how far it is', async () => {
    for (let part = 0; part < 10; part++) {
      await db.write((tx) =>
        tx.run('UNWIND range(1, 100000) AS i CREATE (:Filler {n: $part * 100000 + i})', { part }),
      );
    }
    const said: string[] = [];
    const result = await migrate(
      db,
      withMigration(
        '900-create-filler-n-index.cypher',
        'CREATE INDEX filler_n IF NOT EXISTS FOR (f:Filler) ON (f.n)',
      ),
      { log: (m) => said.push(m), pollMs: 20, progressMs: 0 },
    );
    expect(result.applied).toEqual(['900-create-filler-n-index.cypher']);
    const states = await neo4j.driver.executeQuery(
      "SHOW INDEXES YIELD name, state WHERE name = 'filler_n' RETURN state",
    );
    expect(states.records.map((r) => r.get('state'))).toEqual(['ONLINE']);
    // A million nodes take longer to index than one poll: at least one progress line.
    expect(said.length).toBeGreaterThan(0);
    expect(said[0]).toMatch(/^waiting for indexes to populate: filler_n \d+\.\d %$/);
  });

  it("stops with Neo4j's reason when an index fails to populate, and creates it again once dropped", async () => {
    // A range index cannot hold a value this large: its population fails.
    await db.write((tx) =>
      tx.run("CREATE (:Huge {text: reduce(s = '', i IN range(1, 5000) | s + 'xxxxxxxxxx')})"),
    );
    const more = withMigration(
      '901-create-huge-text-index.cypher',
      'CREATE INDEX huge_text IF NOT EXISTS FOR (h:Huge) ON (h.text)',
    );
    const failure = migrate(db, more, { pollMs: 20 });
    await expect(failure).rejects.toThrow(
      /^index huge_text failed to populate: .+; fix the data, run DROP INDEX huge_text, and start again/,
    );
    // The same start again fails the same way: Neo4j does not populate a failed index anew.
    await expect(migrate(db, more, { pollMs: 20 })).rejects.toThrow(/^index huge_text failed/);
    // Its migration was forgotten: with the data fixed and the index dropped, it is created anew.
    await db.write((tx) => tx.run('MATCH (h:Huge) DELETE h'));
    await db.write((tx) => tx.run('DROP INDEX huge_text'));
    const again = await migrate(db, more, { pollMs: 20 });
    expect(again.applied).toEqual(['901-create-huge-text-index.cypher']);
    const states = await neo4j.driver.executeQuery(
      "SHOW INDEXES YIELD name, state WHERE name = 'huge_text' RETURN state",
    );
    expect(states.records.map((r) => r.get('state'))).toEqual(['ONLINE']);
  });
});
