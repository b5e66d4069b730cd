/**
 * rankClusters: the order analysts page clusters in (risk, then size, then id). The
 * integration tests' fixture ranks with it too (test/support/analyst-fixtures.ts).
 */
import { rankClusters } from '../../../src/linkage/publish';

const cluster = (id: string, risk: number, size: number) => ({
  id,
  risk,
  members: Array.from({ length: size }, (_, i) => i),
});

it('ranks by risk, then the larger cluster, then the id', () => {
  const ranks = rankClusters([
    cluster('c-b', 0.5, 3),
    cluster('c-a', 0.5, 3),
    cluster('c-small', 0.5, 2),
    cluster('c-big', 0.5, 9),
    cluster('c-risky', 0.9, 2),
    cluster('c-calm', 0.1, 40),
  ]);
  expect([...ranks].sort((x, y) => x[1] - y[1]).map(([id]) => id)).toEqual([
    'c-risky',
    'c-big',
    'c-a',
    'c-b',
    'c-small',
    'c-calm',
  ]);
});

it('gives every cluster its own rank from 1, whatever order they come in', () => {
  const clusters = [cluster('x', 0.2, 5), cluster('y', 0.2, 5), cluster('z', 0.2, 5)];
  const forward = rankClusters(clusters);
  const backward = rankClusters([...clusters].reverse());
  expect([...forward.values()].sort()).toEqual([1, 2, 3]);
  expect(backward).toEqual(forward);
});
