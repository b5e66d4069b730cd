/**
 * The pure part of the membership index: cluster summaries and account id →
 * cluster position, as the paged queries fill it.
 */
import { MembershipIndex, MembershipTable } from '../../../src/clusters/membership-index';
import { loadCypher } from '../../../src/platform/cypher';
import type { Logger } from '../../../src/platform/logger';
import type { Database } from '../../../src/platform/neo4j';

const ring = { id: 'c-ring', risk: 0.9, flagged: true, size: 2, reasons: [] };
const office = {
  id: 'c-office',
  risk: 0.1,
  flagged: false,
  size: 1,
  reasons: [{ code: 'x', value: 1 }],
};

describe('MembershipTable', () => {
  it('answers members, non-members, and nothing for ids it does not hold', () => {
    const table = new MembershipTable('r-1');
    table.addCluster(ring);
    table.addCluster(office);
    table.addAccounts(['a', 'b'], ['c-ring', '']);
    table.addAccounts(['c', 'd'], ['c-office', 'c-ring']);
    table.seal();
    expect(table.size).toBe(4);
    expect(table.get('a')).toEqual({ accountId: 'a', runId: 'r-1', cluster: ring });
    expect(table.get('b')).toEqual({ accountId: 'b', runId: 'r-1', cluster: null });
    expect(table.get('c')?.cluster).toBe(office);
    expect(table.get('d')?.cluster).toBe(ring);
    expect(table.get('e')).toBeUndefined();
  });

  it('leaves out an account whose cluster was not loaded, so it is asked of Neo4j', () => {
    const table = new MembershipTable('r-1');
    table.addCluster(ring);
    table.addAccounts(['a', 'b'], ['c-missing', 'c-ring']);
    expect(table.get('a')).toBeUndefined();
    expect(table.get('b')?.cluster).toBe(ring);
    expect(table.size).toBe(1);
  });
});

describe('MembershipIndex stopped with the service', () => {
  it('drops the load on its way, without a "load failed" line, and starts none after', async () => {
    // Review, 12-05: a load still going at shutdown failed as the driver closed under it,
    // and logged an error that looked like a fault.
    let fail: (err: Error) => void = () => undefined;
    let reads = 0;
    const db = {
      read: () => {
        reads++;
        return new Promise((_resolve, reject) => (fail = reject));
      },
    } as unknown as Database;
    const errors: string[] = [];
    const logger = {
      error: (_obj: unknown, msg: string) => errors.push(msg),
      warn: () => undefined,
      info: () => undefined,
      debug: () => undefined,
    } as unknown as Logger;
    const index = new MembershipIndex({ db, cypher: loadCypher(), logger, maxAccounts: 10 });
    index.onRun('r-1');
    expect(index.status().state).toBe('loading');
    index.stop();
    fail(new Error('Pool is closed, it is no more able to serve requests.'));
    await index.settled();
    expect(errors).toEqual([]);
    expect(index.lookup('r-1', 'a')).toBeUndefined(); // asked of Neo4j, and no new load
    expect(reads).toBe(1);
  });
});
