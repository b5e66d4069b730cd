/**
 * Where a resumed window's committed parts got to: kept in the checkpoint, or (one
 * written before that) found by cutting the window again with the part size it records.
 */
import { committedPosition } from '../../../src/ingest/importer';
import { PendingBatch } from '../../../src/ingest/writer';

function windowOf(keyed: number, accounts: number): PendingBatch {
  const batch = new PendingBatch();
  const at = Date.UTC(2026, 1, 1);
  for (let i = 0; i < keyed; i++)
    batch.add({ id: `k-${i}`, type: 'signup', accountId: `acct-${i % accounts}`, at });
  for (let i = 0; i < accounts * 3; i++)
    batch.add({ type: 'request', accountId: `acct-${i % accounts}`, at, ip: `10.0.0.${i % 3}` });
  return batch;
}

describe('committedPosition', () => {
  const batch = windowOf(25, 40);

  it('is what the checkpoint kept', () => {
    expect(
      committedPosition({ keyed: 25, account: 'acct-17', parts: 9, partRows: 7 }, batch),
    ).toEqual({ keyed: 25, account: 'acct-17' });
  });

  it('of a checkpoint that kept no position, is the end of its parts cut again by its partRows', () => {
    const old = (parts: number) =>
      committedPosition({ keyed: null, account: null, parts, partRows: 10 }, batch);
    // keyed events in parts of 10: 10, 20, 25
    expect(old(1)).toEqual({ keyed: 10, account: null });
    expect(old(3)).toEqual({ keyed: 25, account: null });
    // then groups of accounts (4 rows each: account, 3 IPs) of at most 10 rows: 2 a group
    const groups = batch.folded.partition(10);
    expect(groups[0]).toHaveLength(2);
    expect(old(4)).toEqual({ keyed: 25, account: groups[0]![1] });
    expect(old(6)).toEqual({ keyed: 25, account: groups[2]![1] });
    const none = windowOf(0, 5);
    expect(committedPosition({ keyed: null, account: null, parts: 1, partRows: 10 }, none)).toEqual(
      { keyed: 0, account: none.folded.partition(10)[0]!.at(-1) },
    );
  });
});
