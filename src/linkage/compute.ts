/**
 * The part of a linkage run that reads and computes: extract → build → detect →
 * score → match. It ends with what publish needs (clusters with stable ids, the
 * dissolved ones, account ids) and the run's stats; it writes nothing.
 *
 * The runner runs it in a worker thread (compute-worker.ts) so the service's event
 * loop stays free for requests and the lease timer while build, detect and score
 * hold a CPU for seconds at a time. `phase` is told as each stage begins, with the
 * time it began: the caller may hear of it later (from the worker, behind its own writes).
 */
import { createHash } from 'node:crypto';
import { query, type CypherMap } from '../platform/cypher';
import type { Database } from '../platform/neo4j';
import { build } from './build';
import { detect } from './detect';
import { extract } from './extract';
import type { LinkMaxAge } from './link-age';
import { promptTemplates } from './lsh';
import { matchClusters, type MatchOptions, type MatchResult } from './match';
import { score } from './score';
import type { ClusterChange } from './types';
import { allowlistDigest } from './allowlist';
import { buildOverrides, scoreOverrides, type WeightOverrides } from './settings';
import { resolveBuildOptions } from './weights';

export const COMPUTE_PHASES = ['extract', 'build', 'detect', 'score', 'match'] as const;
export type ComputePhase = (typeof COMPUTE_PHASES)[number];

/** What a run computes from: not its own id, so a run retried from the same state computes the same. */
export interface ComputeParams {
  seed: number;
  resolution: number;
  minClusterSize: number;
  riskThreshold: number;
  extractPageSize: number;
  /** packed pages when Neo4j has the launcher's procedure (extract.ts) */
  extractPacked: boolean;
  /** LINKAGE_ALLOWLIST, added to the stored entries */
  configAllowlist: string;
  /** near-duplicate prompts: SimHash fingerprints within this many bits are one template */
  promptMaxHamming: number;
  /** LINKAGE_WEIGHTS, parsed */
  weights: WeightOverrides;
  /** LINKAGE_LINK_MAX_AGE_DAYS, parsed (ms per kind; link-age.ts) */
  linkMaxAge: LinkMaxAge;
}

export interface ComputeEvents {
  phase: (phase: ComputePhase, at: number) => void | Promise<void>;
  /** fraction of the current phase done, 0–1 */
  progress: (fraction: number) => void;
  /** throws to stop between extract pages */
  checkAbort?: () => void;
}

export interface ComputeResult {
  matched: MatchResult;
  /** ids of the accounts in clusters; cluster members index into this list */
  accountIds: string[];
  stats: Record<string, unknown>;
  /** when the last stage ended (Date.now()) */
  finishedAt: number;
}

export async function compute(
  db: Database,
  cypher: CypherMap,
  params: ComputeParams,
  events: ComputeEvents,
): Promise<ComputeResult> {
  const { seed } = params;
  const stats: Record<string, unknown> = {};

  await events.phase('extract', Date.now());
  const extracted = await extract(db, cypher, {
    pageSize: params.extractPageSize,
    packed: params.extractPacked,
    configAllowlist: params.configAllowlist,
    linkMaxAge: params.linkMaxAge,
    onProgress: (read, total) => events.progress(total > 0 ? read / total : 1),
    checkAbort: events.checkAbort,
  });
  const input = extracted.input;
  stats.extract = extracted.stats;
  stats.allowlist = allowlistDigest(input.allowlist);

  await events.phase('build', Date.now());
  // Prompt templates are grouped once, here, for build and score alike.
  const buildOptions = resolveBuildOptions({
    ...buildOverrides(params.weights),
    seed,
    maxHamming: params.promptMaxHamming,
  });
  const templates = promptTemplates(input.identifiers, buildOptions.maxHamming, input.allowlist);
  const graph = build(input, buildOptions, templates);
  stats.build = graph.stats;

  await events.phase('detect', Date.now());
  const detection = detect(graph, {
    seed,
    resolution: params.resolution,
    minClusterSize: params.minClusterSize,
  });
  stats.detect = detection.stats;

  await events.phase('score', Date.now());
  const scored = score(
    input,
    detection,
    {
      ...scoreOverrides(params.weights),
      threshold: params.riskThreshold,
      seed,
      templateMaxHamming: params.promptMaxHamming,
    },
    templates,
  );

  await events.phase('match', Date.now());
  const accountIds = input.accounts.map((a) => a.id);
  const match = (taken: ReadonlySet<string>) =>
    stableIds(
      input.previousRunId,
      seed,
      input.previousClusters,
      scored,
      accountIds,
      { minOverlap: params.minClusterSize },
      taken,
    );
  const matched = await clearOfHistory(db, cypher, input.previousClusters, match);

  // This run's clusters by change, and apart from them the previous clusters it retired:
  // one "merged" count for both would add clusters that merged to clusters merged away.
  const changes: Partial<Record<ClusterChange, number>> = {};
  for (const c of matched.clusters)
    changes[c.lineage.change] = (changes[c.lineage.change] ?? 0) + 1;
  const retiredAs: Partial<Record<'merged' | 'dissolved', number>> = {};
  for (const d of matched.dissolved) retiredAs[d.change] = (retiredAs[d.change] ?? 0) + 1;
  Object.assign(stats, {
    accounts: input.accounts.length,
    identifiers: input.identifiers.length,
    links: input.linkAccount.length,
    edges: graph.source.length,
    communities: detection.communityCount,
    clusters: matched.clusters.length,
    flagged: matched.clusters.filter((c) => c.flagged).length,
    modularity: detection.modularity,
    accountsInClusters: matched.clusters.reduce((s, c) => s + c.members.length, 0),
    previousClusters: input.previousClusters.length,
    retired: matched.dissolved.length,
    retiredAs,
    changes,
  });
  return { ...memberIdsOnly(matched, accountIds), stats, finishedAt: Date.now() };
}

/**
 * Keeps only the ids publish needs (members of clusters, ~1 in 8 accounts at 1M) and
 * re-indexes members into that list: the result crosses from the worker thread by
 * structured clone, and cloning a million ids stalled the main thread for ~0.7 s.
 */
function memberIdsOnly(
  matched: MatchResult,
  accountIds: readonly string[],
): { matched: MatchResult; accountIds: string[] } {
  const index = new Map<number, number>();
  const ids: string[] = [];
  const clusters = matched.clusters.map((c) => ({
    ...c,
    members: c.members.map((a) => {
      let i = index.get(a);
      if (i === undefined) {
        i = ids.length;
        index.set(a, i);
        ids.push(accountIds[a] as string);
      }
      return i;
    }),
  }));
  return { matched: { ...matched, clusters }, accountIds: ids };
}

/**
 * Deterministic id for a new cluster: a hash of the run it is matched against (the
 * current one; "" before the first), the seed and its smallest member id. A run retried
 * from the same state draws the same ids. `attempt` > 0 draws again, for an id that 48
 * bits of hash made equal to one already taken (kept, retired, or published by any
 * earlier run: clearOfHistory).
 */
export function newClusterId(
  previousRunId: string | null,
  seed: number,
  memberIds: readonly string[],
  attempt = 0,
): string {
  let first = memberIds[0] ?? '';
  for (const id of memberIds) if (id < first) first = id;
  const again = attempt > 0 ? `\u0000${attempt}` : '';
  const hash = createHash('sha256')
    .update(`${previousRunId ?? ''}\u0000${seed}\u0000${first}${again}`)
    .digest('hex');
  return `c-${hash.slice(0, 12)}`;
}

/**
 * Matches until no new cluster's id is one a succeeded run published before: the
 * previous run's ids are known to the matcher, older ones only to Neo4j. 48 bits of hash
 * make a clash rare, so this is one indexed read, and a second match when one is found.
 */
async function clearOfHistory(
  db: Database,
  cypher: CypherMap,
  previous: { id: string }[],
  match: (published: ReadonlySet<string>) => MatchResult,
): Promise<MatchResult> {
  const previousIds = new Set(previous.map((p) => p.id));
  const published = new Set<string>();
  for (;;) {
    const matched = match(published);
    const fresh = matched.clusters.map((c) => c.id).filter((id) => !previousIds.has(id));
    if (fresh.length === 0) return matched;
    const clash = await db.read(async (tx) => {
      const res = await tx.run(query(cypher, 'linkage/read-published-cluster-ids'), { ids: fresh });
      return res.records.map((r) => r.get('id') as string);
    });
    // Each clash is an id the last match did not know, so this ends.
    if (clash.length === 0) return matched;
    for (const id of clash) published.add(id);
  }
}

/**
 * Adapter over match.ts: its `newId()` is called without the cluster it names, so
 * fresh ids are handed out as placeholders and replaced afterwards by a
 * deterministic id derived from the cluster's members (see newClusterId).
 */
export function stableIds(
  previousRunId: string | null,
  seed: number,
  previous: { id: string; members: string[] }[],
  scored: Parameters<typeof matchClusters>[1],
  accountIds: string[],
  options: Partial<MatchOptions> = {},
  /** ids published before the previous run (clearOfHistory) */
  published: ReadonlySet<string> = new Set(),
): MatchResult {
  let n = 0;
  const placeholder = '\u0000new:';
  const result = matchClusters(previous, scored, accountIds, () => `${placeholder}${n++}`, options);
  // Publish merges clusters by id and history is kept by id: a new id must be none of
  // the ids kept, retired here, published by an earlier run or drawn before in this run.
  const taken = new Set([...published, ...previous.map((p) => p.id)]);
  for (const c of result.clusters) if (!c.id.startsWith(placeholder)) taken.add(c.id);
  const rename = new Map<string, string>();
  for (const c of result.clusters) {
    if (!c.id.startsWith(placeholder)) continue;
    const members = c.members.map((a) => accountIds[a] as string);
    let id = newClusterId(previousRunId, seed, members);
    for (let attempt = 1; taken.has(id); attempt++) {
      id = newClusterId(previousRunId, seed, members, attempt);
    }
    taken.add(id);
    rename.set(c.id, id);
  }
  if (rename.size === 0) return result;
  const fix = (id: string) => rename.get(id) ?? id;
  return {
    clusters: result.clusters.map((c) => ({
      ...c,
      id: fix(c.id),
      lineage: { ...c.lineage, clusterId: fix(c.lineage.clusterId) },
    })),
    dissolved: result.dissolved.map((d) => ({ ...d, into: d.into.map(fix) })),
  };
}
