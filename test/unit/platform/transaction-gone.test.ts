/**
 * transactionGone frees a given-up query's slot once Neo4j no longer lists it: one failed
 * check (a busy pool) must not free the slot of an expression still computing.
 */
import type { Driver } from 'neo4j-driver';
import { Database, GONE_AFTER_FAILED_CHECKS } from '../../../src/platform/neo4j';

/** A driver whose SHOW TRANSACTIONS answers come from `answers`: a count, 'fail' or 'hang'. */
function scripted(answers: (number | 'fail' | 'hang')[]) {
  let checks = 0;
  const driver = {
    session: () => ({
      run: async () => {
        const answer = answers[checks++] ?? 0;
        if (answer === 'fail') throw new Error('pool busy');
        if (answer === 'hang') return new Promise(() => undefined);
        return { records: [{ get: () => answer }] };
      },
      close: async () => undefined,
    }),
  };
  return { db: new Database(driver as unknown as Driver), checks: () => checks };
}

describe('Database.transactionGone', () => {
  it('a failed check between answers that still list the query does not end it', async () => {
    const { db, checks } = scripted(['fail', 1, 'fail', 1, 0]);
    await db.transactionGone('t', 1);
    expect(checks()).toBe(5);
  });

  it(`${GONE_AFTER_FAILED_CHECKS} failed checks in a row (Neo4j away) count as ended`, async () => {
    const { db, checks } = scripted(['fail', 'fail', 'fail', 1]);
    await db.transactionGone('t', 1);
    expect(checks()).toBe(3);
  });

  it('a check Neo4j never answers counts as failed after its timeout', async () => {
    const { db, checks } = scripted(['hang', 1, 'hang', 'hang', 'hang', 1]);
    await db.transactionGone('t', 1, 20);
    expect(checks()).toBe(5);
  });
});
