import { newClusterId, stableIds } from '../../../src/linkage/compute';
import type { ScoredCluster } from '../../../src/linkage/types';

const ACCOUNTS = Array.from({ length: 20 }, (_, i) => `a${i}`);

function cur(members: number[]): ScoredCluster {
  return { members, risk: 0.5, flagged: false, reasons: [], signals: {}, sharedIdentifiers: [] };
}

describe('stableIds', () => {
  it('draws a new cluster the id its members hash to, the same on a retry', () => {
    const run = () => stableIds('r-1', 42, [], [cur([3, 4, 5])], ACCOUNTS);
    const id = newClusterId('r-1', 42, ['a3', 'a4', 'a5']);
    expect(run().clusters.map((c) => c.id)).toEqual([id]);
    expect(run().clusters.map((c) => c.id)).toEqual([id]);
  });

  it('draws again when the hash equals an id already taken (a retired or kept one)', () => {
    // Review, 12-05: 48 bits of hash with no check; publish merges clusters by id, so a
    // collision folded two clusters into one, or spliced a new one into a retired one's
    // history.
    const collides = newClusterId('r-1', 42, ['a3', 'a4', 'a5']);
    const previous = [
      { id: collides, members: ['a10', 'a11', 'a12'] }, // no overlap: dissolved
      { id: 'c-kept', members: ['a0', 'a1', 'a2'] },
    ];
    const result = stableIds('r-1', 42, previous, [cur([0, 1, 2]), cur([3, 4, 5])], ACCOUNTS);
    const [kept, fresh] = result.clusters;
    expect(kept?.id).toBe('c-kept');
    expect(fresh?.id).toBe(newClusterId('r-1', 42, ['a3', 'a4', 'a5'], 1));
    expect(fresh?.id).not.toBe(collides);
    expect(fresh?.lineage.clusterId).toBe(fresh?.id);
    expect(result.dissolved.map((d) => d.clusterId)).toEqual([collides]);
  });

  it('draws again past ids published before the previous run, which only Neo4j knows', () => {
    const first = newClusterId('r-1', 42, ['a3', 'a4', 'a5']);
    const second = newClusterId('r-1', 42, ['a3', 'a4', 'a5'], 1);
    const published = new Set([first, second]);
    const result = stableIds('r-1', 42, [], [cur([3, 4, 5])], ACCOUNTS, {}, published);
    expect(result.clusters.map((c) => c.id)).toEqual([
      newClusterId('r-1', 42, ['a3', 'a4', 'a5'], 2),
    ]);
    expect(result.dissolved).toEqual([]); // published ids are not the previous run's
  });
});
