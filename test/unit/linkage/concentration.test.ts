/**
 * Capability concentration must not depend on the order the counts arrive in (Neo4j's
 * relationship order): float sums do, so `concentration` sums in sorted order.
 */
import { concentration } from '../../../src/linkage/signals/numbers';

function permutations(items: number[]): number[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((x, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [x, ...rest]),
  );
}

describe('concentration', () => {
  it('gives the same bits for every order of the same counts', () => {
    const counts = [1, 2, 3, 5, 7, 11, 13];
    const seen = new Set(permutations(counts).map((p) => concentration(p).hhi));
    expect([...seen]).toHaveLength(1);
    // Σc² / (Σc)² = 378 / 42²
    expect([...seen][0]).toBeCloseTo(378 / 1764, 12);
    expect(concentration(counts.reverse())).toMatchObject({ top: 13 / 42, total: 42 });
  });

  it('is 0 for no traffic', () => {
    expect(concentration([])).toEqual({ hhi: 0, top: 0, total: 0 });
    expect(concentration([0, 0])).toEqual({ hhi: 0, top: 0, total: 0 });
  });
});
