/**
 * detect: planted rings separated, modularity checked against graphology-metrics,
 * determinism, tiny components skipped, components taken whole only when exact.
 */
import { UndirectedGraph } from 'graphology';
import louvain from 'graphology-communities-louvain';
import modularity from 'graphology-metrics/graph/modularity';
import { detect } from '../../../src/linkage/detect';
import { createRng } from '../../../src/linkage/rng';
import type { LinkageGraph } from '../../../src/linkage/types';
import { rng } from '../../support/linkage-fixtures';

type Edge = [number, number, number];

function graphOf(accountCount: number, edges: Edge[]): LinkageGraph {
  return {
    accountCount,
    source: Int32Array.from(edges.map(([s, t]) => Math.min(s, t))),
    target: Int32Array.from(edges.map(([s, t]) => Math.max(s, t))),
    weight: Float64Array.from(edges.map(([, , w]) => w)),
    stats: {},
  };
}

function clique(members: number[], w = 1): Edge[] {
  const out: Edge[] = [];
  for (let i = 0; i < members.length; i++) {
    for (let j = i + 1; j < members.length; j++)
      out.push([members[i] as number, members[j] as number, w]);
  }
  return out;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

/** Rings of `size` (dense inside, with noise) chained by weak bridges, seeded. */
function plantedRings(
  rings: number,
  size: number,
  seed: number,
): { graph: LinkageGraph; ringOf: number[] } {
  const rng = createRng(seed);
  const edges: Edge[] = [];
  const ringOf: number[] = [];
  for (let r = 0; r < rings; r++) {
    const members = range(r * size, (r + 1) * size);
    members.forEach(() => ringOf.push(r));
    for (const [s, t] of clique(members)) if (rng() < 0.7) edges.push([s, t, 0.5 + rng()]);
    if (r > 0) edges.push([r * size - 1, r * size, 0.1]);
    if (r > 1) edges.push([(r - 2) * size, r * size + 1, 0.1]);
  }
  return { graph: graphOf(rings * size, edges), ringOf };
}

function sameGrouping(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  const ab = new Map<number, number>();
  const ba = new Map<number, number>();
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    if ((ab.get(x) ?? y) !== y || (ba.get(y) ?? x) !== x) return false;
    ab.set(x, y);
    ba.set(y, x);
  }
  return true;
}

describe('detect', () => {
  it('separates planted rings joined by weak bridges', () => {
    const { graph, ringOf } = plantedRings(6, 12, 1);
    const d = detect(graph);
    expect(d.communityCount).toBe(6);
    expect(sameGrouping(d.community, ringOf)).toBe(true);
    expect(d.stats.componentsLouvain).toBe(1);
    expect(d.modularity).toBeGreaterThan(0.6);
  });

  it('reports the modularity graphology-metrics computes on the same partition', () => {
    const { graph } = plantedRings(5, 9, 2);
    // A pair and an isolated account: they end with -1 and count as singletons.
    const g2 = graphOf(graph.accountCount + 3, [
      ...Array.from(graph.source, (s, e) => [s, graph.target[e], graph.weight[e]] as Edge),
      [graph.accountCount, graph.accountCount + 1, 2],
    ]);
    for (const resolution of [1, 1.5]) {
      const d = detect(g2, { resolution });
      const g = new UndirectedGraph();
      for (let i = 0; i < g2.accountCount; i++) g.addNode(i);
      for (let e = 0; e < g2.source.length; e++) {
        g.addEdge(g2.source[e], g2.target[e], { weight: g2.weight[e] });
      }
      const expected = modularity(g, {
        resolution,
        getNodeCommunity: (node: string) => {
          const c = d.community[Number(node)] as number;
          return c >= 0 ? `c${c}` : `single${node}`;
        },
      });
      expect(d.modularity).toBeCloseTo(expected, 10);
    }
  });

  it('gives the same communities for the same graph and seed', () => {
    const { graph } = plantedRings(8, 10, 3);
    const seen = new Set(Array.from(graph.source, (s, e) => `${s}-${graph.target[e]}`));
    const noise: Edge[] = [];
    for (let i = 0; i < 60; i++) {
      const [s, t] = [i, (i * 37 + 11) % 80].sort((x, y) => x - y) as [number, number];
      if (s === t || seen.has(`${s}-${t}`)) continue;
      seen.add(`${s}-${t}`);
      noise.push([s, t, 0.3]);
    }
    const noisy = graphOf(graph.accountCount, [
      ...Array.from(graph.source, (s, e) => [s, graph.target[e], graph.weight[e]] as Edge),
      ...noise,
    ]);
    const a = detect(noisy, { seed: 7 });
    const b = detect(noisy, { seed: 7 });
    expect(Array.from(a.community)).toEqual(Array.from(b.community));
    expect(a.modularity).toBe(b.modularity);
    // Planted rings leave Louvain little choice, so they would agree even with an
    // unseeded order; on a cycle of equal weights every cut is as good, and only the
    // seed makes two runs pick the same one.
    const n = 200;
    const cycle = graphOf(
      n,
      range(0, n).map((i) => [i, (i + 1) % n, 1] as Edge),
    );
    for (const seed of [1, 7]) {
      const first = detect(cycle, { seed });
      const again = detect(cycle, { seed });
      expect(first.communityCount).toBeGreaterThan(1);
      expect(Array.from(again.community)).toEqual(Array.from(first.community));
    }
  });

  it('uses its seed: on a cycle of equal weights, where any cut is as good, seeds differ', () => {
    const n = 200;
    const cycle = graphOf(
      n,
      range(0, n).map((i) => [i, (i + 1) % n, 1] as Edge),
    );
    const partitions = new Set(
      [1, 2, 3, 4].map((seed) => Array.from(detect(cycle, { seed }).community).join(',')),
    );
    expect(partitions.size).toBeGreaterThan(1);
    const again = Array.from(detect(cycle, { seed: 3 }).community).join(',');
    expect(partitions.has(again)).toBe(true);
  });

  it('numbers communities by their smallest account', () => {
    const edges = [...clique([5, 6, 7]), ...clique([0, 8, 9]), ...clique([2, 3, 4])];
    const d = detect(graphOf(10, edges));
    expect(Array.from(d.community)).toEqual([0, -1, 1, 1, 1, 2, 2, 2, 0, 0]);
  });

  it('skips components below minClusterSize and isolated accounts', () => {
    const d = detect(graphOf(6, [[0, 1, 1], ...clique([2, 3, 4])]));
    expect(Array.from(d.community)).toEqual([-1, -1, 0, 0, 0, -1]);
    expect(d.stats.componentsTooSmall).toBe(2);
    expect(d.stats.isolatedAccounts).toBe(1);
    expect(detect(graphOf(6, [[0, 1, 1]]), { minClusterSize: 2 }).communityCount).toBe(1);
  });

  it('takes small components whole when no split can raise modularity, like Louvain would', () => {
    // Many small groups (what most of a real graph is) plus two rings bridged.
    const edges: Edge[] = [];
    for (let t = 0; t < 300; t++) edges.push(...clique(range(100 + 4 * t, 104 + 4 * t), 0.5));
    edges.push(...clique(range(0, 20)), ...clique(range(20, 40)), [19, 20, 0.05]);
    const graph = graphOf(1300, edges);
    const d = detect(graph);
    expect(d.stats.componentsTakenWhole).toBe(300);
    expect(d.stats.louvainAccounts).toBe(40);

    // Louvain over the whole graph finds the same partition.
    const g = new UndirectedGraph();
    for (let i = 0; i < graph.accountCount; i++) g.addNode(i);
    edges.forEach(([s, t, w]) => g.addEdge(s, t, { weight: w }));
    const full = louvain(g, { rng: createRng(1) });
    const used = range(0, 40).concat(range(100, 1300));
    expect(
      sameGrouping(
        used.map((i) => d.community[i] as number),
        used.map((i) => full[String(i)] as number),
      ),
    ).toBe(true);
  });

  it('drops Louvain communities below minClusterSize', () => {
    // A ring of 12 with two pendant pairs hanging off weak edges.
    const edges: Edge[] = [
      ...clique(range(0, 12)),
      [0, 12, 0.01],
      [12, 13, 3],
      [1, 14, 0.01],
      [14, 15, 3],
    ];
    const d = detect(graphOf(16, edges));
    expect(d.communityCount).toBe(1);
    expect(Array.from(d.community.slice(12))).toEqual([-1, -1, -1, -1]);
  });

  it('gives the same communities through the array view as through a real UndirectedGraph', () => {
    // A structureless random graph: Louvain's answer there hangs on every detail
    // of node and neighbour order, so any difference between the two would show.
    const rng = createRng(5);
    const seen = new Set<number>();
    const edges: Edge[] = [];
    while (edges.length < 900) {
      const a = Math.floor(rng() * 300);
      const b = Math.floor(rng() * 300);
      if (a === b || seen.has(Math.min(a, b) * 300 + Math.max(a, b))) continue;
      seen.add(Math.min(a, b) * 300 + Math.max(a, b));
      edges.push([a, b, 0.1 + rng()]);
    }
    const graph = graphOf(300, edges);
    for (const seed of [1, 2, 3]) {
      const view = detect(graph, { seed, louvainGraph: 'view' });
      const real = detect(graph, { seed, louvainGraph: 'graphology' });
      expect(Array.from(view.community)).toEqual(Array.from(real.community));
      expect(view.stats.partitionModularity).toBe(real.stats.partitionModularity);
      expect(view.communityCount).toBeGreaterThan(3);
    }
  });

  it('handles an empty graph', () => {
    const d = detect(graphOf(3, []));
    expect(d.communityCount).toBe(0);
    expect(d.modularity).toBe(0);
  });

  it('refuses a minClusterSize below 2 at its entry, naming the option', () => {
    // Below 2 an isolated account would be a cluster: with no edges at all that used to
    // reach Louvain and fail inside it (a TypeError), with edges it passed silently.
    for (const minClusterSize of [1, 0, -1, 2.5, NaN]) {
      expect(() => detect(graphOf(3, []), { minClusterSize })).toThrow(
        /minClusterSize must be an integer ≥ 2/,
      );
      expect(() => detect(graphOf(3, [[0, 1, 1]]), { minClusterSize })).toThrow(RangeError);
    }
    expect(detect(graphOf(3, []), { minClusterSize: 2 }).communityCount).toBe(0);
  });

  it('refuses an edge whose weight is not positive and finite, naming it', () => {
    // A weight-0 edge joined two triangles into one component that weighed nothing in
    // modularity: all-zero components went to Louvain with m = 0 and came back empty.
    for (const w of [0, -1, NaN, Infinity]) {
      const edges: Edge[] = [...clique([0, 1, 2]), ...clique([3, 4, 5]), [2, 3, w]];
      expect(() => detect(graphOf(6, edges))).toThrow(
        new RangeError(`detect: edge 6 has weight ${w}; weights must be positive and finite`),
      );
    }
    expect(
      detect(graphOf(6, [...clique([0, 1, 2]), ...clique([3, 4, 5]), [2, 3, 0.01]])).communityCount,
    ).toBe(2);
  });
});

describe('detect: communities are connected', () => {
  // Review: Louvain can leave a community in parts that share no edge. On this graph
  // (a random one with 15 planted groups; seed 167 of 300 tried) it left parts of 36 and
  // 2 accounts in one community, and the 2 were scored and published with the 36.
  function plantedRandom(seed: number): { graph: LinkageGraph; edges: Edge[] } {
    const r = rng(seed);
    const n = 300;
    const plant = Array.from({ length: n }, () => Math.floor(r() * 15));
    const weights = new Map<string, number>();
    for (let e = 0; e < 1500; e++) {
      const i = Math.floor(r() * n);
      let j = Math.floor(r() * n);
      if (r() < 0.7) {
        const other = Math.floor(r() * n);
        if (plant[other] === plant[i]) j = other;
      }
      if (i !== j) weights.set(`${Math.min(i, j)},${Math.max(i, j)}`, r() < 0.1 ? 3 : 0.2 + r());
    }
    const edges = [...weights].map(([key, w]) => {
      const [s, t] = key.split(',').map(Number) as [number, number];
      return [s, t, w] as Edge;
    });
    return { graph: graphOf(n, edges), edges };
  }

  it('splits a community Louvain left in parts, each part then sized on its own', () => {
    const { graph, edges } = plantedRandom(167);
    const det = detect(graph, { minClusterSize: 3, seed: 167 });
    expect(det.stats.louvainCommunitiesSplit).toBeGreaterThanOrEqual(1);
    // every community is one connected part
    const parent = Array.from({ length: 300 }, (_, i) => i);
    const find = (x: number): number => (parent[x] === x ? x : (parent[x] = find(parent[x]!)));
    for (const [s, t] of edges)
      if (det.community[s]! >= 0 && det.community[s] === det.community[t])
        parent[find(s)] = find(t);
    const parts = new Map<number, Set<number>>();
    for (let i = 0; i < 300; i++) {
      const c = det.community[i]!;
      if (c >= 0) parts.set(c, (parts.get(c) ?? new Set()).add(find(i)));
    }
    expect(parts.size).toBe(det.communityCount);
    expect([...parts.values()].filter((p) => p.size > 1)).toEqual([]);
  });
});
