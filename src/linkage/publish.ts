/**
 * publish: the last stage of a linkage run, the only one besides extract that
 * writes Neo4j. Readers must always see one complete run, so:
 *   1. the run's clusters are written under its own keys (`runId/id`) in batches
 *      (UNWIND), then its MEMBER_OF relationships in batches, two write
 *      transactions in flight at a time: invisible to readers, who always go
 *      through the pointer;
 *   2. ONE final transaction flips `(:Pointer {name: 'current'}).runId` to this run,
 *      marks the run succeeded with its final stats and frees the lease — only if
 *      the run still holds the lease. "succeeded" means the run's output is whole and
 *      current, and the next run can start at once.
 * A run that fails before step 2 leaves the pointer, and so every reader, on the
 * previous run; `discardRun` removes what it had written.
 * Then, only once the swap has committed, `housekeeping`: memberships of succeeded
 * runs beyond the newest `keepRuns` (the new current run counting as one) are removed —
 * their Cluster nodes stay as history — and failed runs' partial clusters are deleted.
 * After the swap, so a run that never becomes current (refused at the swap, stopped)
 * has removed nothing; and best-effort: a failure is logged and left for the next run.
 */
import { query, type CypherMap } from '../platform/cypher';
import { AppError } from '../platform/errors';
import type { Logger } from '../platform/logger';
import { type Database, int, toNumber } from '../platform/neo4j';
import type { RetiredCluster } from './match';
import type { PublishedCluster } from './types';

export interface PublishOptions {
  /** clusters per transaction, and memberships per transaction */
  batchSize: number;
  /** lease name the final swap checks */
  leaseName: string;
  /** called just before the swap's transaction is sent (a failure after it may have committed) */
  onSwap?: () => void;
  /** (written, total) over cluster + membership rows */
  onProgress?: (written: number, total: number) => void;
  /** called between batches; throws to stop (lease lost) */
  checkAbort?: () => void;
  /** write transactions in flight at once (default 2) */
  concurrency?: number;
  /** test hook: called after each committed batch (1-based); may throw to simulate a crash */
  afterBatch?: (batch: number) => void | Promise<void>;
  /** the run's stats and timings as they should be stored at the swap */
  finalRecord: (published: PublishStats) => { stats: unknown; timings: unknown };
}

export interface PublishInput {
  runId: string;
  clusters: PublishedCluster[];
  dissolved: RetiredCluster[];
  /** account id per account index */
  accountIds: string[];
}

export interface PublishStats {
  clustersWritten: number;
  membershipsWritten: number;
  batches: number;
  /** wall time of the cluster writes and of the membership writes */
  clustersMs: number;
  membershipsMs: number;
}

export interface PruneCounts {
  runsPruned: number;
  membershipsPruned: number;
  failedRunsCleaned: number;
}

/** What the housekeeping after a swap did, for the run's `stats.publish`. */
export interface HousekeepingStats {
  /** null when it failed: the next run's housekeeping retries */
  prune: PruneCounts | null;
  pruneMs: number;
}

/** Cluster key, unique across runs. */
export function clusterKey(runId: string, id: string): string {
  return `${runId}/${id}`;
}

/** Ranks clusters: risk desc, then size desc, then id (1 = look here first). */
export function rankClusters(
  clusters: readonly { id: string; risk: number; members: readonly unknown[] }[],
): Map<string, number> {
  const order = [...clusters].sort(
    (x, y) =>
      y.risk - x.risk ||
      y.members.length - x.members.length ||
      (x.id < y.id ? -1 : x.id > y.id ? 1 : 0),
  );
  return new Map(order.map((c, i) => [c.id, i + 1]));
}

export async function publish(
  db: Database,
  cypher: CypherMap,
  input: PublishInput,
  opts: PublishOptions,
): Promise<PublishStats> {
  const { runId, clusters, accountIds } = input;
  const batchSize = Math.max(1, opts.batchSize);
  const ranks = rankClusters(clusters);
  const totalMembers = clusters.reduce((s, c) => s + c.members.length, 0);
  const total = clusters.length + totalMembers;
  let written = 0;
  let batches = 0;
  // What the batches wrote, as Neo4j counted it: a run failed meanwhile by another process
  // writes nothing more, and its failure record must not claim the clusters it planned.
  const stored = { clusters: 0, memberships: 0 };
  const lanes = new Lanes(Math.max(1, opts.concurrency ?? 2));
  const write = (
    text: string,
    params: Record<string, unknown>,
    rows: number,
    what: keyof typeof stored,
  ) =>
    lanes.add(async () => {
      opts.checkAbort?.();
      const res = await db.write((tx) => tx.run(text, params));
      stored[what] += Number(res.records[0]?.get('written') ?? 0);
      batches++;
      written += rows;
      opts.onProgress?.(written, total);
      await opts.afterBatch?.(batches);
    });

  // 1a. clusters (all committed before any membership refers to them)
  const clustersStarted = Date.now();
  const mergeClusters = query(cypher, 'linkage/merge-clusters');
  for (let from = 0; from < clusters.length; from += batchSize) {
    const rows = clusters.slice(from, from + batchSize).map((c) => ({
      key: clusterKey(runId, c.id),
      id: c.id,
      risk: c.risk,
      flagged: c.flagged,
      size: int(c.members.length),
      rank: int(ranks.get(c.id) ?? 0),
      reasons: JSON.stringify(c.reasons),
      signals: JSON.stringify(c.signals),
      sharedIdentifiers: JSON.stringify(c.sharedIdentifiers),
      change: c.lineage.change,
      from: c.lineage.from,
    }));
    await write(mergeClusters, { runId, rows, now: Date.now() }, rows.length, 'clusters');
  }
  await lanes.drain();
  const clustersMs = Date.now() - clustersStarted;

  // 1b. memberships: batches of ~batchSize accounts; a big cluster spans several.
  const membershipsStarted = Date.now();
  const mergeMemberships = query(cypher, 'linkage/merge-memberships');
  let rows: { key: string; members: string[] }[] = [];
  let inBatch = 0;
  const flush = async () => {
    if (inBatch === 0) return;
    const batch = rows;
    const n = inBatch;
    rows = [];
    inBatch = 0;
    await write(mergeMemberships, { rows: batch }, n, 'memberships');
  };
  for (const c of clusters) {
    const key = clusterKey(runId, c.id);
    let at = 0;
    while (at < c.members.length) {
      const take = Math.min(batchSize - inBatch, c.members.length - at);
      const members = c.members.slice(at, at + take).map((a) => accountIds[a] as string);
      rows.push({ key, members });
      inBatch += take;
      at += take;
      if (inBatch >= batchSize) await flush();
    }
  }
  await flush();
  await lanes.drain();
  const membershipsMs = Date.now() - membershipsStarted;

  const published: PublishStats = {
    clustersWritten: stored.clusters,
    membershipsWritten: stored.memberships,
    batches,
    clustersMs,
    membershipsMs,
  };

  // 2. the swap (its finishedAt is the database's clock: pruning orders runs by it)
  opts.checkAbort?.();
  const record = opts.finalRecord(published);
  opts.onSwap?.();
  const flipped = await db.write(async (tx) => {
    const res = await tx.run(query(cypher, 'linkage/make-run-current'), {
      runId,
      lease: opts.leaseName,
      stats: JSON.stringify(record.stats),
      timings: JSON.stringify(record.timings),
      dissolved: JSON.stringify(input.dissolved),
    });
    return res.records.length > 0;
  });
  // No row also when the driver retried a swap whose commit went through (its
  // acknowledgement lost): the runner checks `swapCommitted` before calling it a failure.
  if (!flipped) {
    throw new AppError(
      'conflict',
      'could not make the run current: it no longer holds the lease (or is no longer running)',
      { details: { runId } },
    );
  }
  return published;
}

/**
 * Whether the run's swap committed after all: it is succeeded (only the swap marks a run
 * so). Not whether it is current: another run may have taken the freed lease and
 * swapped in while the answer was lost. Read on the leader (runState).
 */
export async function swapCommitted(
  db: Database,
  cypher: CypherMap,
  runId: string,
): Promise<boolean> {
  return (await runState(db, cypher, runId)).status === 'succeeded';
}

/**
 * A run's status and whether readers see it, read in a write transaction: a cluster
 * answers from its leader, which has the swap if it committed (a follower may lag).
 */
async function runState(
  db: Database,
  cypher: CypherMap,
  runId: string,
): Promise<{ status: unknown; current: boolean }> {
  return db.write(async (tx) => {
    const res = await tx.run(query(cypher, 'linkage/read-run'), { id: runId });
    const record = res.records[0];
    const status = (record?.get('run') as { status?: unknown } | null | undefined)?.status;
    return { status, current: record?.get('current') === true };
  });
}

/** Deletes, in batches, what `query` matches for one run until nothing is left. */
async function deleteInBatches(
  db: Database,
  cypher: CypherMap,
  key: string,
  runId: string,
  batchSize: number,
): Promise<number> {
  const text = query(cypher, key);
  let total = 0;
  for (;;) {
    const deleted = await db.write(async (tx) => {
      const res = await tx.run(text, { runId, limit: int(batchSize) });
      return toNumber(res.records[0]?.get('deleted') ?? 0);
    });
    total += deleted;
    if (deleted === 0) return total;
  }
}

/**
 * Removes a run's clusters and memberships, unless it is the current run or succeeded
 * (then nothing): a succeeded run that is no longer current keeps its clusters for
 * history and verdicts.
 */
export async function discardRun(
  db: Database,
  cypher: CypherMap,
  runId: string,
  batchSize: number,
): Promise<{ memberships: number; clusters: number }> {
  const { status, current } = await runState(db, cypher, runId);
  if (current || status === 'succeeded') return { memberships: 0, clusters: 0 };
  const memberships = await deleteInBatches(
    db,
    cypher,
    'linkage/delete-run-memberships',
    runId,
    batchSize,
  );
  const clusters = await deleteInBatches(
    db,
    cypher,
    'linkage/delete-run-clusters',
    runId,
    batchSize,
  );
  return { memberships, clusters };
}

/**
 * Run by a run once its swap has committed, and never throws: a failure is logged and
 * what is left is removed by the next run's housekeeping. `keepRuns` counts the new
 * current run (LINKAGE_KEEP_RUNS).
 */
export async function housekeeping(
  db: Database,
  cypher: CypherMap,
  opts: { runId: string; keepRuns: number; batchSize: number; logger?: Logger },
): Promise<HousekeepingStats> {
  const started = Date.now();
  let pruned: PruneCounts | null = null;
  try {
    pruned = await prune(db, cypher, {
      keepRuns: Math.max(1, opts.keepRuns),
      batchSize: Math.max(1, opts.batchSize),
      logger: opts.logger,
    });
  } catch (err) {
    opts.logger?.warn(
      { err, runId: opts.runId },
      'linkage housekeeping failed; the next run retries',
    );
  }
  return { prune: pruned, pruneMs: Date.now() - started };
}

/**
 * Memberships of succeeded runs beyond the newest `keepRuns` go (cluster summaries
 * stay; the current run is never touched, whatever `keepRuns`); failed runs' clusters
 * go. Called after a swap (`housekeeping`), when the run just made current is one of
 * the newest.
 */
export async function prune(
  db: Database,
  cypher: CypherMap,
  opts: { keepRuns: number; batchSize: number; logger?: Logger },
): Promise<PruneCounts> {
  const ids = async (key: string, params: Record<string, unknown>) =>
    db.read(async (tx) => {
      const res = await tx.run(query(cypher, key), params);
      return res.records.map((r) => String(r.get('runId')));
    });
  let membershipsPruned = 0;
  // Runs are counted by what this call did: another process's housekeeping may have
  // got to one first.
  const old = await ids('linkage/read-runs-to-prune', { keep: int(opts.keepRuns) });
  const pruned: string[] = [];
  for (const runId of old) {
    // Marked before the first delete, so readers of a page cut short can tell (clusters).
    await db.write(async (tx) => {
      await tx.run(query(cypher, 'linkage/mark-run-pruning'), { runId, now: Date.now() });
    });
    membershipsPruned += await deleteInBatches(
      db,
      cypher,
      'linkage/delete-run-memberships',
      runId,
      opts.batchSize,
    );
    const marked = await db.write(async (tx) => {
      const res = await tx.run(query(cypher, 'linkage/mark-run-pruned'), {
        runId,
        now: Date.now(),
      });
      return toNumber(res.records[0]?.get('marked') ?? 0);
    });
    if (marked > 0) pruned.push(runId);
  }
  const failed = await ids('linkage/read-failed-runs-to-clean', {});
  const cleaned: string[] = [];
  for (const runId of failed) {
    const removed = await discardRun(db, cypher, runId, opts.batchSize);
    if (removed.clusters + removed.memberships > 0) cleaned.push(runId);
  }
  if (pruned.length + cleaned.length > 0)
    opts.logger?.info({ pruned, cleaned }, 'linkage housekeeping');
  return { runsPruned: pruned.length, membershipsPruned, failedRunsCleaned: cleaned.length };
}

/**
 * At most `width` batch writes in flight. `add` waits for a free lane; the first
 * failure is rethrown by the next `add` or by `drain`, and only after every
 * write in flight has settled, so a failed run's cleanup never races a batch
 * that is still committing.
 */
class Lanes {
  private readonly inflight = new Set<Promise<void>>();
  private failure: { err: unknown } | undefined;

  constructor(private readonly width: number) {}

  async add(task: () => Promise<void>): Promise<void> {
    while (this.inflight.size >= this.width) await Promise.race(this.inflight);
    if (this.failure) return this.drain();
    const p: Promise<void> = task()
      .catch((err: unknown) => {
        this.failure ??= { err };
      })
      .finally(() => this.inflight.delete(p));
    this.inflight.add(p);
  }

  async drain(): Promise<void> {
    await Promise.all(this.inflight);
    if (this.failure) throw this.failure.err;
  }
}
