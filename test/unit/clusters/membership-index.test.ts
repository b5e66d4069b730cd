/**
 * The pure part of the membership index: cluster summaries and account id →
 * cluster position, as the paged queries fill it.
 */
import { MembershipTable } from '../../../src/clusters/membership-index';

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
