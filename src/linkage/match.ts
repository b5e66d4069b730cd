/**
 * Stable cluster ids (pure): matches this run's scored communities to the previous
 * run's published clusters by member overlap, keeps ids, and records what happened.
 *
 * Why: analysts bookmark, annotate and give verdicts on clusters; a cluster that is
 * "the same ring as yesterday" must keep its id even when Louvain renumbers
 * communities and a few members come and go. Merges and splits are recorded so a
 * cluster's history reads as a story (born, grew, merged with X, split into Y).
 * Verdicts are stored by id, so an id passes only with a cluster's worth of its members
 * (never one account), never through a few stragglers into a crowd, nor through a stray
 * fragment of a cluster that went elsewhere.
 *
 * Rules (all ties broken deterministically):
 *  - overlap(c, p) = members of current cluster c that were in previous cluster p;
 *    share(p→c) = overlap / |p|, share(c←p) = overlap / |c|.
 *  - p "contributes" to c when share(p→c) ≥ minShare and the overlap is at least
 *    max(2, min(minOverlap, ⌈|p|/2⌉)) accounts (a quarter of a 3-account cluster is
 *    one account, too few to carry its id anywhere).
 *  - A pair may pass p's id on to c when p contributes to c and either share(c←p) ≥
 *    minShare or share(p→c) ≥ 1/2 with at least min(3, minOverlap) accounts (so a ring
 *    that grew keeps its id, but three of a 12-account cluster, or two of a 3-account
 *    one, do not hand it to a crowd of a thousand), or, only for a p
 *    that contributes to no current cluster, when the overlap is
 *    a majority of c (share(c←p) > 1/2) and at least minOverlap accounts. So a few
 *    stragglers carry no id into a big cluster, one former member carries no big
 *    cluster's id into a small one, and a p of which minShare or more joined a
 *    cluster that kept another id is retired as merged rather than living on in a
 *    fragment of the rest under minShare of p or under floor() accounts (that
 *    fragment reads "split" from p, with a fresh id); a remainder of at least both
 *    contributes to its cluster itself and keeps p's id.
 *  - Greedy matching over those pairs, the pairs where p contributes first (a remnant
 *    of a cluster that contributes nowhere never outranks a cluster that is whole in
 *    c), then by overlap (desc), then Jaccard (desc), then previous id, then current
 *    index: each previous id is kept by at most one current cluster (its largest-
 *    overlap partner still free), each current cluster keeps at most one previous id.
 *  - p is a source of c (named in c's lineage, and c in p's `into` when p is retired)
 *    when p contributes to c, or both shares are ≥ minShare with at
 *    least 2 accounts, or share(c←p) ≥ minShare with at least minOverlap accounts, or
 *    c kept p's id. So a ring split into five parts of 20 %
 *    is a source of all five.
 *  - Change of a current cluster:
 *      merged  ≥ 2 sources (from = all of them, the kept id first, then largest
 *              overlap first);
 *      split   one source, which is a source of ≥ 2 current clusters or whose id
 *              it did not keep (from = [that previous id]); the part that kept the
 *              id and the others (with fresh ids) are all "split";
 *      grew / shrank / stable   kept an id and has no other source, by size against
 *              the previous cluster (from = [], the id itself says where it came from);
 *      new     no source (fresh id, from = []).
 *  - Previous clusters whose id nobody kept are retired: "merged" (into the current
 *    clusters it is a source of) or "dissolved" (none).
 */
import type { ClusterChange, ClusterLineage, PublishedCluster, ScoredCluster } from './types';

export interface MatchOptions {
  /** share of a previous cluster (for lineage, of the current one too) that counts */
  minShare: number;
  /**
   * accounts a current cluster must hold of a previous one to keep its id, or to name
   * it in its lineage, on the strength of the current cluster's share alone (the run
   * passes LINKAGE_MIN_CLUSTER_SIZE: the overlap must be a cluster's worth)
   */
  minOverlap: number;
}

export const DEFAULTS: MatchOptions = { minShare: 0.25, minOverlap: 3 };

/** A previous cluster whose id is not carried forward by this run. */
export interface RetiredCluster extends ClusterLineage {
  change: Extract<ClusterChange, 'merged' | 'dissolved'>;
  /** current cluster ids it is a source of, largest overlap first (empty when dissolved) */
  into: string[];
}

export interface MatchResult {
  /** one per current cluster, in the order given */
  clusters: PublishedCluster[];
  /** previous clusters with no id-keeping successor, sorted by id */
  dissolved: RetiredCluster[];
}

interface Pair {
  c: number;
  p: number;
  overlap: number;
  jaccard: number;
}

/** Former members that carry a cluster's id into a community they are under a quarter of. */
const CROWD_MIN_OVERLAP = 3;

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function matchClusters(
  previous: { id: string; members: string[] }[],
  current: ScoredCluster[],
  accountIds: string[],
  newId: () => string,
  options: Partial<MatchOptions> = {},
): MatchResult {
  const opts: MatchOptions = { ...DEFAULTS, ...options };

  // previous cluster per account id (an id listed twice counts for the later cluster)
  const previousOf = new Map<string, number>();
  const previousSize = previous.map((p) => new Set(p.members).size);
  previous.forEach((p, i) => {
    for (const m of p.members) previousOf.set(m, i);
  });

  // overlaps: one pass over current members
  const pairs: Pair[] = [];
  const currentSize = current.map((c) => c.members.length);
  current.forEach((cluster, c) => {
    const counts = new Map<number, number>();
    for (const a of cluster.members) {
      const id = accountIds[a];
      if (id === undefined) continue;
      const p = previousOf.get(id);
      if (p !== undefined) counts.set(p, (counts.get(p) ?? 0) + 1);
    }
    for (const [p, overlap] of counts) {
      const union = currentSize[c]! + previousSize[p]! - overlap;
      pairs.push({ c, p, overlap, jaccard: union > 0 ? overlap / union : 0 });
    }
  });

  const shareOfPrevious = (pair: Pair): number => pair.overlap / Math.max(1, previousSize[pair.p]!);
  const shareOfCurrent = (pair: Pair): number => pair.overlap / Math.max(1, currentSize[pair.c]!);
  const enough = (pair: Pair): boolean => pair.overlap >= opts.minOverlap;
  // A quarter of a small cluster can be one account: it must also be a cluster's worth
  // of accounts (or half of p, for a p smaller than two clusters' worth, never one), or
  // one former member hands a 3-account cluster's id (and verdicts) to strangers.
  const floor = (pair: Pair): number =>
    Math.max(2, Math.min(opts.minOverlap, Math.ceil(previousSize[pair.p]! / 2)));
  const contributes = (pair: Pair): boolean =>
    shareOfPrevious(pair) >= opts.minShare && pair.overlap >= floor(pair);
  // Into a community its members are under a quarter of, p's id goes only with half of
  // p, and never with two accounts or fewer (unless minOverlap is lower): a ring that
  // grew keeps it; three of twelve, or two of a 3-account cluster, in a crowd do not
  // (c reads "split" from p).
  const intoCrowd = (pair: Pair): boolean =>
    2 * pair.overlap >= previousSize[pair.p]! &&
    pair.overlap >= Math.max(floor(pair), Math.min(CROWD_MIN_OVERLAP, opts.minOverlap));
  const substantial = (pair: Pair): boolean =>
    contributes(pair) && (shareOfCurrent(pair) >= opts.minShare || intoCrowd(pair));
  // Below the floor, two or more former members that are also a quarter of c still name
  // p in c's lineage (c reads "split" from p, with a fresh id).
  const related = (pair: Pair): boolean =>
    shareOfPrevious(pair) >= opts.minShare &&
    pair.overlap >= 2 &&
    shareOfCurrent(pair) >= opts.minShare;
  const contributesSomewhere = previous.map(() => false);
  for (const pair of pairs) if (contributes(pair)) contributesSomewhere[pair.p] = true;

  // Greedy id assignment over the pairs that may pass an id on: the substantial ones
  // first, then the remnants of clusters that contribute nowhere. A remnant of four
  // from a cluster of 1,000 must not take c's id from a cluster of three inside c whole.
  const remnant = (pair: Pair): boolean =>
    !contributesSomewhere[pair.p] && 2 * pair.overlap > currentSize[pair.c]! && enough(pair);
  const ordered = pairs
    .filter((pair) => substantial(pair) || remnant(pair))
    .map((pair) => ({ pair, rank: substantial(pair) ? 0 : 1 }))
    .sort(
      (x, y) =>
        x.rank - y.rank ||
        y.pair.overlap - x.pair.overlap ||
        y.pair.jaccard - x.pair.jaccard ||
        compareIds(previous[x.pair.p]!.id, previous[y.pair.p]!.id) ||
        x.pair.c - y.pair.c,
    )
    .map(({ pair }) => pair);
  const keptBy = new Map<number, number>(); // previous → current
  const keeps = new Map<number, number>(); // current → previous
  for (const pair of ordered) {
    if (keptBy.has(pair.p) || keeps.has(pair.c)) continue;
    keptBy.set(pair.p, pair.c);
    keeps.set(pair.c, pair.p);
  }

  // sources (lineage), both ways, largest overlap first. The id a cluster kept is
  // always one of its sources.
  const isSource = (pair: Pair): boolean =>
    contributes(pair) ||
    related(pair) ||
    (shareOfCurrent(pair) >= opts.minShare && enough(pair)) ||
    keeps.get(pair.c) === pair.p;
  const sourcesOf: Pair[][] = current.map(() => []);
  const targetsOf: Pair[][] = previous.map(() => []);
  for (const pair of pairs) {
    if (!isSource(pair)) continue;
    sourcesOf[pair.c]!.push(pair);
    targetsOf[pair.p]!.push(pair);
  }
  const byOverlap = (x: Pair, y: Pair): number =>
    y.overlap - x.overlap || compareIds(previous[x.p]!.id, previous[y.p]!.id) || x.c - y.c;
  for (const list of sourcesOf) list.sort(byOverlap);
  for (const list of targetsOf) list.sort(byOverlap);

  // ids first (in current order, so fresh ids are drawn deterministically)
  const ids = current.map((_, c) => {
    const p = keeps.get(c);
    return p !== undefined ? previous[p]!.id : newId();
  });

  const clusters: PublishedCluster[] = current.map((cluster, c) => {
    const id = ids[c]!;
    const kept = keeps.get(c);
    const sources = sourcesOf[c]!;
    let change: ClusterChange;
    let from: string[] = [];
    if (sources.length >= 2) {
      change = 'merged';
      from = sources.map((s) => previous[s.p]!.id);
    } else if (
      sources.length === 1 &&
      (targetsOf[sources[0]!.p]!.length >= 2 || sources[0]!.p !== kept)
    ) {
      // its one source spread over several clusters, or it did not keep that id
      change = 'split';
      from = [previous[sources[0]!.p]!.id];
    } else if (kept !== undefined) {
      const before = previousSize[kept]!;
      const after = currentSize[c]!;
      change = after > before ? 'grew' : after < before ? 'shrank' : 'stable';
    } else {
      change = 'new';
    }
    if (kept !== undefined && from.length > 0) {
      const keptId = previous[kept]!.id;
      from = [keptId, ...from.filter((f) => f !== keptId)]; // the kept id first, as documented
    }
    return { ...cluster, id, lineage: { clusterId: id, change, from } };
  });

  const dissolved: RetiredCluster[] = [];
  previous.forEach((p, i) => {
    if (keptBy.has(i)) return;
    const into = targetsOf[i]!.map((pair) => ids[pair.c]!);
    dissolved.push(
      into.length > 0
        ? { clusterId: p.id, change: 'merged', from: [], into }
        : { clusterId: p.id, change: 'dissolved', from: [], into: [] },
    );
  });
  dissolved.sort((x, y) => compareIds(x.clusterId, y.clusterId));

  return { clusters, dissolved };
}
