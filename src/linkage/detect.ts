/**
 * detect: weighted account graph → communities (Louvain), reproducibly.
 *
 * Connected components split the work; Louvain only sees the components where
 * it can change anything:
 *   - components smaller than minClusterSize (most accounts: isolated or in
 *     pairs) are not clusters: community -1, no Louvain;
 *   - a component whose every split would lower the whole graph's modularity is
 *     taken whole. Merging the k parts of any split of component C changes
 *     m·Q by W_between − γ·Σ_{i<j} d_i·d_j / 2m ≥ (k−1)·(w_min − γ·D_C² / 8m),
 *     so when w_min ≥ γ·D_C² / (8m) (w_min its lightest edge, D_C its total
 *     degree, m the graph's total weight) no split can beat the whole: exact,
 *     not a heuristic, and true of nearly every small component of a big graph;
 *   - the remaining components go together to graphology-communities-louvain
 *     (`louvain.detailed`, seeded rng), through a read-only graphology view of
 *     the edge arrays (see CsrView) or, optionally, a real UndirectedGraph. Its
 *     resolution is scaled by m_sub / m so it optimises the same objective as
 *     Louvain over the whole graph would (the null model uses the global m).
 * A Louvain community in parts that share no edge is split into them (splitDisconnected).
 * Communities below minClusterSize → -1. Communities are numbered by their
 * smallest account index, so numbering depends only on the graph and seed.
 * minClusterSize must be an integer ≥ 2, as LINKAGE_MIN_CLUSTER_SIZE (config.ts):
 * a cluster links accounts, and an isolated account links nothing.
 * `modularity` is the weighted modularity (resolution γ) of the final partition
 * over the whole graph, accounts with -1 counting as singletons.
 */
import { UndirectedGraph } from 'graphology';
import louvain from 'graphology-communities-louvain';
import { UnionFind } from './lsh';
import { createRng } from './rng';
import type { Detection, LinkageGraph } from './types';
import type Graph from 'graphology-types';
import { resolveDetectOptions, type DetectOptions } from './weights';

export function detect(graph: LinkageGraph, options: Partial<DetectOptions> = {}): Detection {
  const opts = resolveDetectOptions(options);
  // Below 2 every isolated account would be a "cluster" (to score, publish and match
  // on one shared member); refused here rather than failing inside Louvain.
  if (!Number.isInteger(opts.minClusterSize) || opts.minClusterSize < 2) {
    throw new RangeError(
      `detect: minClusterSize must be an integer ≥ 2 (got ${opts.minClusterSize}): a cluster links at least two accounts`,
    );
  }
  const n = graph.accountCount;
  const E = graph.source.length;
  const gamma = opts.resolution;
  const stats: Record<string, number> = { accounts: n, edges: E };

  // Components (union-find by smaller root: deterministic roots).
  const uf = new UnionFind(n);
  let m = 0;
  for (let e = 0; e < E; e++) {
    const w = graph.weight[e] as number;
    // build emits positive weights only. A weight-0 edge would join its component yet
    // weigh nothing in modularity (no component taken whole, m = 0 dividing).
    if (!(w > 0 && w < Infinity)) {
      throw new RangeError(
        `detect: edge ${e} has weight ${w}; weights must be positive and finite`,
      );
    }
    uf.union(graph.source[e] as number, graph.target[e] as number);
    m += w;
  }
  const root = new Int32Array(n);
  const size = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const r = uf.find(i);
    root[i] = r;
    size[r] = (size[r] as number) + 1;
  }
  const compWeight = new Float64Array(n);
  const compMinWeight = new Float64Array(n).fill(Infinity);
  for (let e = 0; e < E; e++) {
    const r = root[graph.source[e] as number] as number;
    const w = graph.weight[e] as number;
    compWeight[r] = (compWeight[r] as number) + w;
    if (w < (compMinWeight[r] as number)) compMinWeight[r] = w;
  }

  // Which components need Louvain.
  const needsLouvain = new Uint8Array(n);
  let components = 0;
  let tiny = 0;
  let whole = 0;
  let louvainComponents = 0;
  let isolated = 0;
  for (let r = 0; r < n; r++) {
    if (root[r] !== r) continue;
    components++;
    const s = size[r] as number;
    if (s === 1) isolated++;
    if (s < opts.minClusterSize) tiny++;
    else {
      const D = 2 * (compWeight[r] as number);
      if ((compMinWeight[r] as number) >= (gamma * D * D) / (8 * m)) whole++;
      else {
        needsLouvain[r] = 1;
        louvainComponents++;
      }
    }
  }
  Object.assign(stats, {
    components,
    isolatedAccounts: isolated,
    componentsTooSmall: tiny,
    componentsTakenWhole: whole,
    componentsLouvain: louvainComponents,
  });

  // group: the partition before small groups are dropped; starts as the components.
  const group = root.slice();
  const louvainResult = runLouvain(graph, root, needsLouvain, m, opts, stats);
  for (const [account, label] of louvainResult) group[account] = n + label; // disjoint from roots
  stats.louvainCommunitiesSplit = splitDisconnected(graph, group, needsLouvain, root);

  // Final numbering: groups of ≥ minClusterSize, ordered by smallest member.
  // Group labels are < 2n (roots, or n + Louvain label): typed arrays, no maps.
  const groupSize = new Int32Array(2 * n);
  for (let i = 0; i < n; i++)
    groupSize[group[i] as number] = (groupSize[group[i] as number] as number) + 1;
  const community = new Int32Array(n).fill(-1);
  const number = new Int32Array(2 * n).fill(-1);
  let communityCount = 0;
  for (let i = 0; i < n; i++) {
    const g = group[i] as number;
    if ((groupSize[g] as number) < opts.minClusterSize) continue;
    if (number[g] === -1) number[g] = communityCount++;
    community[i] = number[g] as number;
  }
  stats.communities = communityCount;
  stats.accountsInCommunities = community.reduce((s, c) => s + (c >= 0 ? 1 : 0), 0);
  stats.partitionModularity = modularity(graph, group, gamma);
  return { community, communityCount, modularity: modularity(graph, community, gamma), stats };
}

/**
 * Louvain can leave a community in parts that share no edge; each part becomes a group
 * of its own (which can then fall below minClusterSize), or accounts nothing links
 * would be scored and published together. Splitting such parts only raises modularity.
 * Relabels the Louvain groups in place to n + the smallest account of each part (still
 * disjoint from component roots); returns how many communities were split.
 */
function splitDisconnected(
  graph: LinkageGraph,
  group: Int32Array,
  needsLouvain: Uint8Array,
  root: Int32Array,
): number {
  const n = graph.accountCount;
  const uf = new UnionFind(n);
  for (let e = 0; e < graph.source.length; e++) {
    const s = graph.source[e] as number;
    const t = graph.target[e] as number;
    if (needsLouvain[root[s] as number] === 1 && group[s] === group[t]) uf.union(s, t);
  }
  // A part's root is its smallest account (union by smaller root), met first in this loop.
  const parts = new Map<number, number>(); // Louvain group → its parts
  for (let i = 0; i < n; i++) {
    if (needsLouvain[root[i] as number] !== 1) continue;
    const part = uf.find(i);
    const g = group[i] as number;
    if (part === i) parts.set(g, (parts.get(g) ?? 0) + 1);
    group[i] = n + part;
  }
  let split = 0;
  for (const count of parts.values()) if (count > 1) split++;
  return split;
}

/** Louvain over the components flagged in needsLouvain; returns [account, label] pairs. */
function runLouvain(
  graph: LinkageGraph,
  root: Int32Array,
  needsLouvain: Uint8Array,
  m: number,
  opts: DetectOptions,
  stats: Record<string, number>,
): Array<[number, number]> {
  const n = graph.accountCount;
  const local = new Int32Array(n).fill(-1);
  const accounts: number[] = [];
  for (let i = 0; i < n; i++) {
    if (needsLouvain[root[i] as number] === 1) {
      local[i] = accounts.length;
      accounts.push(i);
    }
  }
  stats.louvainAccounts = accounts.length;
  if (accounts.length === 0) {
    stats.louvainEdges = 0;
    return [];
  }

  const started = Date.now();
  // Local edge list of the Louvain components (same order as in the input graph).
  let count = 0;
  for (let e = 0; e < graph.source.length; e++)
    if ((local[graph.source[e] as number] as number) >= 0) count++;
  const ls = new Int32Array(count);
  const lt = new Int32Array(count);
  const lw = new Float64Array(count);
  let mSub = 0;
  for (let e = 0, x = 0; e < graph.source.length; e++) {
    const s = local[graph.source[e] as number] as number;
    if (s < 0) continue;
    const w = graph.weight[e] as number;
    ls[x] = s;
    lt[x] = local[graph.target[e] as number] as number;
    lw[x] = w;
    x++;
    mSub += w;
  }
  const g =
    opts.louvainGraph === 'view'
      ? (new CsrView(accounts.length, ls, lt, lw) as unknown as Graph)
      : graphologyGraph(accounts.length, ls, lt, lw);
  stats.louvainEdges = count;
  stats.louvainGraphMs = Date.now() - started;

  const t = Date.now();
  const result = louvain.detailed(g, {
    getEdgeWeight: 'weight',
    resolution: (opts.resolution * mSub) / m,
    rng: createRng(opts.seed),
  });
  stats.louvainMs = Date.now() - t;
  stats.louvainLevels = result.dendrogram.length;
  const out: Array<[number, number]> = [];
  for (let x = 0; x < accounts.length; x++) {
    out.push([accounts[x] as number, result.communities[x] as number]);
  }
  return out;
}

/**
 * Weighted modularity with resolution γ of a partition (label per account; a
 * negative label means a singleton): Σ_c L_c/m − γ·(D_c/2m)².
 */
export function modularity(graph: LinkageGraph, label: Int32Array, resolution = 1): number {
  const E = graph.source.length;
  let m = 0;
  const degree = new Float64Array(graph.accountCount);
  let internal = 0;
  for (let e = 0; e < E; e++) {
    const s = graph.source[e] as number;
    const t = graph.target[e] as number;
    const w = graph.weight[e] as number;
    m += w;
    degree[s] = (degree[s] as number) + w;
    degree[t] = (degree[t] as number) + w;
    const ls = label[s] as number;
    if (ls >= 0 && ls === label[t]) internal += w;
  }
  if (m === 0) return 0;
  let maxLabel = -1;
  for (let i = 0; i < graph.accountCount; i++) maxLabel = Math.max(maxLabel, label[i] as number);
  const total = new Float64Array(maxLabel + 1);
  let penalty = 0;
  for (let i = 0; i < graph.accountCount; i++) {
    const l = label[i] as number;
    const d = degree[i] as number;
    if (d === 0) continue;
    if (l < 0) penalty += (d / (2 * m)) ** 2;
    else total[l] = (total[l] as number) + d;
  }
  for (let l = 0; l <= maxLabel; l++) penalty += ((total[l] as number) / (2 * m)) ** 2;
  return internal / m - resolution * penalty;
}

function graphologyGraph(order: number, s: Int32Array, t: Int32Array, w: Float64Array): Graph {
  const g = new UndirectedGraph<Record<string, never>, { weight: number }>({
    allowSelfLoops: false,
  });
  for (let x = 0; x < order; x++) g.addNode(x);
  for (let e = 0; e < s.length; e++) {
    g.addEdge(s[e] as number, t[e] as number, { weight: w[e] as number });
  }
  return g as unknown as Graph;
}

/**
 * A read-only graphology-compatible view over a plain edge list, for Louvain.
 *
 * graphology-communities-louvain reads its input only while building its own
 * typed-array index, through a handful of Graph API members (isGraph's duck
 * type, type/multi/order/size/selfLoopCount, forEachNode,
 * undirectedDegreeWithoutSelfLoops, forEachEdge). Materialising a real
 * UndirectedGraph costs an object, an attribute object and a string key per
 * edge: at ~5M edges that is ~25 s and ~2 GiB before Louvain even starts, more
 * than Louvain itself. This view serves those members from arrays instead,
 * nodes and edges in the same order a real graph would give, so the
 * communities are identical (a unit test pins this against a real
 * UndirectedGraph: an upgrade that reads more of the API fails there loudly).
 */
class CsrView {
  readonly type = 'undirected';
  readonly multi = false;
  readonly selfLoopCount = 0;
  readonly order: number;
  readonly size: number;
  private readonly degree: Int32Array;

  constructor(
    order: number,
    private readonly s: Int32Array,
    private readonly t: Int32Array,
    private readonly w: Float64Array,
  ) {
    this.order = order;
    this.size = s.length;
    this.degree = new Int32Array(order);
    for (let e = 0; e < s.length; e++) {
      this.degree[s[e] as number] = (this.degree[s[e] as number] as number) + 1;
      this.degree[t[e] as number] = (this.degree[t[e] as number] as number) + 1;
    }
  }

  // Present for graphology-utils' isGraph duck typing; the view is read-only.
  addUndirectedEdgeWithKey(): never {
    throw new Error('CsrView is read-only');
  }
  dropNode(): never {
    throw new Error('CsrView is read-only');
  }

  forEachNode(callback: (node: number, attributes: object) => void): void {
    const none = {};
    for (let x = 0; x < this.order; x++) callback(x, none);
  }

  undirectedDegreeWithoutSelfLoops(node: number): number {
    return this.degree[node] as number;
  }

  forEachEdge(
    callback: (
      edge: number,
      attributes: { weight: number },
      source: number,
      target: number,
      sourceAttributes: object,
      targetAttributes: object,
      undirected: boolean,
    ) => void,
  ): void {
    const attributes = { weight: 0 }; // one object, refilled: the getter reads it at once
    const none = {};
    for (let e = 0; e < this.size; e++) {
      attributes.weight = this.w[e] as number;
      callback(e, attributes, this.s[e] as number, this.t[e] as number, none, none, true);
    }
  }
}
