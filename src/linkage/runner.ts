/**
 * A linkage run, start to finish: take the lease and create the run record (one
 * transaction), then extract → build → detect → score → match (compute.ts, in a
 * worker thread) → publish, in that order, recording phase, progress and per-phase
 * timings on the (:LinkageRun) node as it goes, and parameters and stats at the end.
 *
 * Why here and nowhere else: every trigger (cron, CLI, POST /v1/linkage/runs)
 * goes through `startLinkage`, so the one-run-at-a-time rule, the run record and
 * the failure handling are the same whoever asked. A failed run is marked failed
 * with its error and its lease freed in one transaction (when that cannot be written,
 * the lease is left to expire, and whoever finds it expired fails the run), its partial
 * clusters are removed, and the pointer never moves: readers keep the previous run.
 * Same data + same seed ⇒ same clusters and ids (every random step is seeded from the
 * run's seed; fresh cluster ids are a hash of the id of the run current when this one
 * starts (the one it is matched against, not its own, so a retry draws the same ids), the
 * seed and the cluster's smallest member id, compute.ts newClusterId).
 */
import { randomBytes } from 'node:crypto';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { runPublished } from '../clusters/state';
import type { Config } from '../platform/config';
import { query, type CypherMap } from '../platform/cypher';
import { AppError, isAppError } from '../platform/errors';
import type { Logger } from '../platform/logger';
import type { Metrics } from '../platform/metrics';
import type { Database, ManagedTransaction } from '../platform/neo4j';
import { int } from '../platform/neo4j';
import { parseConfigAllowlist } from './allowlist';
import { DAY_MS, parseLinkMaxAge, type LinkMaxAge } from './link-age';
import { parseWeightOverrides, type WeightOverrides } from './settings';
import { COMPUTE_PHASES, compute, type ComputeEvents, type ComputeParams } from './compute';
import { computeInWorker } from './compute-thread';
import { LEASE_EXPIRED, LEASE_NAME, Lease } from './lease';
import { discardRun, housekeeping, publish, swapCommitted } from './publish';

export interface LinkageDeps {
  config: Config;
  logger: Logger;
  db: Database;
  cypher: CypherMap;
  metrics?: Metrics;
}

export type Trigger = 'cron' | 'cli' | 'api';

export const PHASES = [...COMPUTE_PHASES, 'publish'] as const;
export type Phase = (typeof PHASES)[number];

export interface RunProgress {
  runId: string;
  phase: Phase | 'starting' | 'done';
  /** overall progress 0–1 */
  progress: number;
}

export interface RunOptions {
  trigger: Trigger;
  seed?: number;
  onProgress?: (p: RunProgress) => void;
  /**
   * Test and bench hooks. `beforePhase` is awaited before publish; for the compute
   * phases it runs as the worker reports entering them (the worker does not wait),
   * and a throw still fails the run.
   */
  hooks?: {
    beforePhase?: (phase: Phase) => void | Promise<void>;
    afterPublishBatch?: (batch: number) => void | Promise<void>;
  };
  /** lease renewal period (default ttl / 6) */
  leaseRenewEveryMs?: number;
}

export interface RunSummary {
  runId: string;
  status: 'succeeded' | 'failed';
  stats: Record<string, unknown>;
  timings: Record<string, number>;
  error?: string;
}

const SHUTDOWN_ERROR = 'service shutting down';

/** Runs in this process, so shutdown can fail them cleanly instead of leaving them to expire. */
const active = new Map<string, AbortController>();
/** Databases of a process shutting down (`stopActiveRuns` with `refuseNew`): no new run. */
const closing = new WeakSet<Database>();
/** Starts between the trigger and their lease: a shutdown waits for them, then stops them. */
const starting = new Set<Promise<unknown>>();
/**
 * Runs of this process until they have ended, their own clean-up included (a stopped run
 * removes the clusters and memberships it wrote): a shutdown waits for them before it
 * closes the driver, whatever started them (the schedule, the API, the CLI).
 */
const finishing = new Set<Promise<RunSummary>>();

/**
 * Sortable by start, and unique: the id is also the lease's holder token, and two
 * processes starting in the same second must never hold it as one (64 random bits).
 */
function newRunId(now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `r-${stamp}-${randomBytes(8).toString('hex')}`;
}

function errorText(err: unknown): string {
  if (isAppError(err)) return `${err.code}: ${err.message}`;
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * What every reader of a failed run is shown: the phase and an error code, never the
 * message (a Neo4j error can quote Cypher, hosts or values). The whole text is for
 * admins and the log.
 */
function errorSummary(phase: string, err: unknown): string {
  return `${phase}: ${isAppError(err) && err.code !== 'internal' ? err.code : 'internal_error'}`;
}

/**
 * Marks a run failed and frees its lease (if the run still holds it), in one
 * transaction: "failed" means done, and a lease is never freed while its run is still
 * marked running. When this cannot be written the lease is left to expire, and whoever
 * then finds it expired (the dead-run check, the next run's acquire) fails the run
 * "lease expired". Both statements only change what is still this run's: a run already
 * finished keeps its record, and a lease another run holds is left alone.
 */
function failRunRecord(
  cypher: CypherMap,
  leaseName: string,
  run: {
    id: string;
    error: string;
    /** the error as analysts see it (`errorSummary`, or a fixed text of ours) */
    summary: string;
    timings: string | null;
    stats: string | null;
    /** written by the run itself: replaces a failure recorded for it by another */
    own: boolean;
  },
): (tx: ManagedTransaction) => Promise<void> {
  return async (tx) => {
    await tx.run(query(cypher, 'linkage/fail-run'), {
      lease: leaseName,
      id: run.id,
      own: run.own,
      expiredError: LEASE_EXPIRED,
      error: run.error,
      summary: run.summary,
      timings: run.timings,
      stats: run.stats,
    });
    await tx.run(query(cypher, 'linkage/release-lease'), { name: leaseName, holder: run.id });
  };
}

/** The run record, written in the transaction that takes the lease (idempotent: MERGE). */
export function createRunRecord(
  cypher: CypherMap,
  run: { id: string; trigger: Trigger; seed: number; startedAt: number; params: string },
): (tx: ManagedTransaction) => Promise<void> {
  return async (tx) => {
    const res = await tx.run(query(cypher, 'linkage/create-run'), {
      id: run.id,
      trigger: run.trigger,
      seed: int(run.seed),
      now: run.startedAt,
      params: run.params,
    });
    // A retried commit that had gone through, its lease expired and its record failed
    // meanwhile by a dead-run check: going ahead would hold the lease for a failed run.
    // Thrown, this attempt rolls back and the lease stays free.
    const status: unknown = res.records[0]?.get('status');
    if (status !== 'running') {
      throw new AppError(
        'conflict',
        `linkage run ${run.id} was marked ${String(status)} while its start was retried; trigger a new run`,
      );
    }
  };
}

/** What compute() gets for a run under this config. */
export function computeParams(
  config: Config,
  run: { seed: number; weights: WeightOverrides; linkMaxAge: LinkMaxAge },
): ComputeParams {
  return {
    seed: run.seed,
    resolution: config.LINKAGE_RESOLUTION,
    minClusterSize: config.LINKAGE_MIN_CLUSTER_SIZE,
    riskThreshold: config.RISK_THRESHOLD,
    extractPageSize: config.LINKAGE_EXTRACT_PAGE_SIZE,
    extractPacked: config.LINKAGE_EXTRACT_PACKED,
    configAllowlist: config.LINKAGE_ALLOWLIST,
    promptMaxHamming: config.LINKAGE_PROMPT_MAX_HAMMING,
    weights: run.weights,
    linkMaxAge: run.linkMaxAge,
  };
}

/**
 * Takes the lease and creates the run record (or throws AppError run_in_progress
 * with the running run's id), then runs the pipeline in the background. `done`
 * never rejects: it resolves to the run's summary, failed or not.
 */
export async function startLinkage(
  deps: LinkageDeps,
  opts: RunOptions,
): Promise<{ runId: string; done: Promise<RunSummary> }> {
  if (closing.has(deps.db)) {
    throw new AppError('not_ready', 'the service is shutting down: no new linkage run');
  }
  const started = acquireAndStart(deps, opts);
  starting.add(started);
  try {
    return await started;
  } finally {
    starting.delete(started);
  }
}

async function acquireAndStart(
  deps: LinkageDeps,
  opts: RunOptions,
): Promise<{ runId: string; done: Promise<RunSummary> }> {
  const { config } = deps;
  const seed = opts.seed ?? config.LINKAGE_SEED;
  const configAllowlist = parseConfigAllowlist(config.LINKAGE_ALLOWLIST); // a typo fails here
  const weights = parseWeightOverrides(config.LINKAGE_WEIGHTS); // and here
  const linkMaxAge = parseLinkMaxAge(config.LINKAGE_LINK_MAX_AGE_DAYS); // and here
  const params = {
    seed,
    resolution: config.LINKAGE_RESOLUTION,
    minClusterSize: config.LINKAGE_MIN_CLUSTER_SIZE,
    riskThreshold: config.RISK_THRESHOLD,
    keepRuns: config.LINKAGE_KEEP_RUNS,
    leaseTtlMs: config.LINKAGE_LEASE_TTL_MS,
    extractPageSize: config.LINKAGE_EXTRACT_PAGE_SIZE,
    extractPacked: config.LINKAGE_EXTRACT_PACKED,
    publishBatchSize: config.LINKAGE_PUBLISH_BATCH_SIZE,
    configAllowlistEntries: configAllowlist.length,
    promptMaxHamming: config.LINKAGE_PROMPT_MAX_HAMMING,
    weights,
    linkMaxAgeDays: Object.fromEntries(
      Object.entries(linkMaxAge).map(([kind, ms]) => [kind, ms / DAY_MS]),
    ),
  };
  const runId = newRunId();
  const startedAt = Date.now();
  const lease = await Lease.acquire(
    deps,
    runId,
    { ttlMs: config.LINKAGE_LEASE_TTL_MS, renewEveryMs: opts.leaseRenewEveryMs },
    createRunRecord(deps.cypher, {
      id: runId,
      trigger: opts.trigger,
      seed,
      startedAt,
      params: JSON.stringify(params),
    }),
  );
  deps.logger.info({ runId, trigger: opts.trigger, seed }, 'linkage run started');
  const abort = new AbortController();
  active.set(runId, abort);
  const deadline = runDeadline(config.LINKAGE_MAX_RUN_MS, abort, lease);
  const run = { runId, seed, weights, linkMaxAge, startedAt, lease, abort: abort.signal };
  const done = execute(deps, opts, run).finally(() => {
    clearTimeout(deadline);
    active.delete(runId);
  });
  finishing.add(done);
  void done.finally(() => finishing.delete(done)); // never rejects
  return { runId, done };
}

/**
 * Stops a run still going after `maxMs` (0: never), and stops renewing its lease. A run
 * blocked on a read or write that never answers (a half-open socket; an external Neo4j has
 * no transaction timeout by default) would otherwise renew its lease from this thread
 * for as long as the socket lives, and every trigger would get 409 (review, 12-05). Its
 * own failure record says why; if even that cannot be written, the lease expires.
 */
function runDeadline(maxMs: number, abort: AbortController, lease: Lease) {
  if (maxMs === 0) return undefined;
  const timer = setTimeout(() => {
    abort.abort(new Error(`ran past LINKAGE_MAX_RUN_MS (${maxMs} ms)`));
    lease.abandon();
  }, maxMs);
  timer.unref();
  return timer;
}

/** Why stopActiveRuns stopped a run. */
function stopReason(abort: AbortSignal): string {
  return abort.reason instanceof Error ? abort.reason.message : SHUTDOWN_ERROR;
}

/** Starts a run and waits for it (CLI, cron). */
export async function runLinkage(deps: LinkageDeps, opts: RunOptions): Promise<RunSummary> {
  const { done } = await startLinkage(deps, opts);
  return done;
}

/**
 * Shutdown: runs of this process are marked failed (`reason`, by default "service
 * shutting down") and their leases released in the same transaction, so the next
 * trigger need not wait for the lease to expire. When that write fails the lease is
 * left to expire (see `failRunRecord`). With `refuseNew` (the process is stopping) no
 * run starts on `deps.db` from then on (`503 not_ready`), and starts already on their
 * way to the lease are stopped too.
 */
export async function stopActiveRuns(
  deps: LinkageDeps,
  opts: { refuseNew?: boolean; reason?: string } = {},
): Promise<void> {
  const reason = opts.reason ?? SHUTDOWN_ERROR;
  if (opts.refuseNew) {
    closing.add(deps.db);
    await Promise.allSettled([...starting]);
  }
  const ids = [...active.keys()];
  for (const [, abort] of active) abort.abort(new Error(reason));
  for (const id of ids) {
    await deps.db
      .write(
        failRunRecord(deps.cypher, LEASE_NAME, {
          id,
          error: reason,
          summary: reason,
          timings: null,
          stats: null,
          own: false,
        }),
      )
      .catch((err: unknown) =>
        deps.logger.warn(
          { err, runId: id, error: reason },
          'could not mark the run failed; its lease is left to expire',
        ),
      );
  }
}

/**
 * Resolves once every run this process started has ended, its clean-up included: after
 * `stopActiveRuns`, what a shutdown waits for (within its grace period) before it closes
 * the driver, which would otherwise cut a stopped run's removal of what it wrote.
 */
export async function activeRunsEnded(): Promise<void> {
  await Promise.allSettled([...finishing]);
}

/** Phase and progress on the run node: phase changes at once, progress at most once a second. */
class RunRecorder {
  phase: RunProgress['phase'] = 'starting';
  private index = -1;
  private fraction = 0;
  private inflight: Promise<void> = Promise.resolve();
  private writing = false;
  private lastWrite = 0;

  constructor(
    private readonly deps: LinkageDeps,
    private readonly runId: string,
    private readonly timings: Record<string, number>,
    private readonly onProgress?: (p: RunProgress) => void,
  ) {}

  get progress(): number {
    return Math.min(1, Math.max(0, (this.index + this.fraction) / PHASES.length));
  }

  async enter(phase: Phase): Promise<void> {
    this.phase = phase;
    this.index = PHASES.indexOf(phase);
    this.fraction = 0;
    this.report();
    await this.inflight;
    await this.write();
  }

  within(fraction: number): void {
    this.fraction = Math.min(1, Math.max(0, fraction));
    this.report();
    if (!this.writing && Date.now() - this.lastWrite >= 1000) this.inflight = this.write();
  }

  private report(): void {
    this.onProgress?.({ runId: this.runId, phase: this.phase, progress: this.progress });
  }

  private async write(): Promise<void> {
    this.writing = true;
    try {
      await this.deps.db.write((tx) =>
        tx.run(query(this.deps.cypher, 'linkage/update-run-progress'), {
          lease: LEASE_NAME,
          id: this.runId,
          phase: this.phase,
          progress: this.progress,
          timings: JSON.stringify(this.timings),
          now: Date.now(),
        }),
      );
    } catch (err) {
      this.deps.logger.warn({ err, runId: this.runId }, 'could not record linkage progress');
    } finally {
      this.writing = false;
      this.lastWrite = Date.now();
    }
  }

  async settle(): Promise<void> {
    await this.inflight;
  }
}

async function execute(
  deps: LinkageDeps,
  opts: RunOptions,
  run: {
    runId: string;
    seed: number;
    weights: WeightOverrides;
    linkMaxAge: LinkMaxAge;
    startedAt: number;
    lease: Lease;
    abort: AbortSignal;
  },
): Promise<RunSummary> {
  const { config, db, cypher, logger } = deps;
  const { runId, lease } = run;
  const timings: Record<string, number> = {};
  const stats: Record<string, unknown> = {};
  const recorder = new RunRecorder(deps, runId, timings, opts.onProgress);
  const checkAbort = () => {
    if (run.abort.aborted) throw new AppError('conflict', `run stopped: ${stopReason(run.abort)}`);
    lease.assertHeld();
  };
  // Set once the run is failing: a phase the worker entered just before it died, still on
  // its way here, must not move the failed run's phase (review, 12-07).
  let failing = false;
  const begin = async (phase: Phase) => {
    // Renewed at every phase boundary too: when compute runs on this thread (a
    // Database without connection options), the timer cannot fire while a pure
    // stage holds the event loop, so a long build or detect must not eat the TTL.
    // A renewal that cannot reach Neo4j does not fail the run (the phase's own work
    // decides); one that finds the lease taken does, in checkAbort.
    await lease.renewOrWarn();
    checkAbort();
    await opts.hooks?.beforePhase?.(phase);
    if (failing) return;
    await recorder.enter(phase);
    await yieldToLoop(); // let HTTP requests in between CPU-heavy phases
  };
  let swapAttempted = false;
  let swapped = false;
  // Once the swap committed the run is current: nothing after it (a caller's onProgress
  // that throws, say) may report it failed.
  const succeeded = async (): Promise<RunSummary> => {
    try {
      // A progress write of the last batch, still on its way, ends before the run does:
      // a shutdown closes the driver once runs have ended.
      await recorder.settle();
      await afterSwap();
    } catch (err) {
      logger.error({ err, runId }, 'linkage run succeeded, but what follows its swap failed');
    }
    return { runId, status: 'succeeded', stats, timings };
  };
  const afterSwap = async (): Promise<void> => {
    lease.abandon(); // the swap freed it
    runPublished(deps); // this replica's analyst reads switch now, not at their next check
    // Housekeeping only once the run is current (it never throws), then its outcome into
    // the run's stats: the swap wrote them before it ran.
    const kept = await housekeeping(db, cypher, {
      runId,
      keepRuns: config.LINKAGE_KEEP_RUNS,
      batchSize: config.LINKAGE_PUBLISH_BATCH_SIZE,
      logger,
    });
    stats.publish = { ...(stats.publish as object | undefined), ...kept };
    await db
      .write((tx) =>
        tx.run(query(cypher, 'linkage/record-run-housekeeping'), {
          runId,
          stats: JSON.stringify(stats),
        }),
      )
      .catch((err: unknown) =>
        logger.warn({ err, runId }, 'could not record the housekeeping in the run’s stats'),
      );
    deps.metrics?.linkageRuns.inc({ outcome: 'succeeded' });
    deps.metrics?.linkageDuration.observe(
      { outcome: 'succeeded' },
      (Date.now() - run.startedAt) / 1000,
    );
    logger.info(
      { runId, timings, clusters: stats.clusters, flagged: stats.flagged },
      'linkage run succeeded',
    );
    // Last: a caller's display that throws here (it went away) must not cost the run its
    // metrics and its success line (review, 12-05).
    opts.onProgress?.({ runId, phase: 'done', progress: 1 });
  };

  // A compute phase lasts from its start to the next one's, as the computing thread
  // saw them: the worker does not wait while this thread renews and records. Out here so
  // that a failure records the time of the phase it ended too.
  let current: { phase: Phase; at: number } | undefined;
  let publishStart: number | undefined;
  try {
    const params = computeParams(config, run);
    const events: ComputeEvents = {
      phase: async (phase, at) => {
        if (current) timings[current.phase] = at - current.at;
        current = { phase, at };
        await begin(phase);
      },
      progress: (fraction) => recorder.within(fraction),
      checkAbort,
    };
    const computed = db.connection
      ? await computeInWorker(db.connection, params, events)
      : await compute(db, cypher, params, events);
    if (current) timings[current.phase] = computed.finishedAt - current.at;
    current = undefined;
    const { matched, accountIds } = computed;
    Object.assign(stats, computed.stats);

    publishStart = Date.now();
    await begin('publish');
    await publish(
      db,
      cypher,
      { runId, clusters: matched.clusters, dissolved: matched.dissolved, accountIds },
      {
        batchSize: config.LINKAGE_PUBLISH_BATCH_SIZE,
        leaseName: lease.name,
        onSwap: () => (swapAttempted = true),
        onProgress: (written, total) => recorder.within(total > 0 ? written / total : 1),
        checkAbort,
        afterBatch: opts.hooks?.afterPublishBatch,
        finalRecord: (written) => {
          timings.publish = Date.now() - (publishStart as number);
          timings.total = Date.now() - run.startedAt;
          stats.publish = written;
          return { stats, timings };
        },
      },
    );
    swapped = true;
    return await succeeded();
  } catch (err) {
    // Ended by the stop: the run saw it (checkAbort), or the lease it freed (a conflict).
    // Decided here, so a stop landing during the waits below, or while a failure already
    // under way (a write's rollback) was on its way here, does not hide that failure.
    const stopped = run.abort.aborted && isAppError(err) && err.code === 'conflict';
    failing = true;
    await lease.stopRenewing();
    await recorder.settle();
    // The swap may have committed though its answer never came (lost on the way, or the
    // driver's retries found the lease already freed by it): then the run succeeded, and
    // is current unless a run that took the freed lease has swapped in since.
    // When Neo4j cannot even say, the run is reported failed with the outcome named
    // unknown: its record in Neo4j decides (succeeded, or failed by whoever next finds
    // its lease expired). Asked only when the swap was sent: a failure before it (a
    // membership batch) cannot have made the run current.
    const committed =
      swapAttempted && !swapped
        ? await swapCommitted(db, cypher, runId).catch(() => 'unknown' as const)
        : false;
    if (committed === true) {
      logger.warn({ err, runId }, 'linkage swap answered with an error but had committed');
      return await succeeded();
    }
    // A shutdown's failure reads the same whichever side records it first: this one or
    // stopActiveRuns (the run's phase stays on its record).
    const error = stopped
      ? stopReason(run.abort)
      : committed === 'unknown'
        ? `publish: outcome unknown, Neo4j did not answer whether the swap committed (${errorText(err)})`
        : `${recorder.phase}: ${errorText(err)}`;
    const summary = stopped
      ? error
      : committed === 'unknown'
        ? 'publish: outcome_unknown'
        : errorSummary(recorder.phase, err);
    // The phase it failed in, up to the failure (a failed build's 40 s, not nothing; a
    // failed swap's retries too, after finalRecord's figure); not one it was refused entry
    // to (recorder.phase is still the one before).
    if (current?.phase === recorder.phase) timings[current.phase] = Date.now() - current.at;
    if (publishStart !== undefined && recorder.phase === 'publish')
      timings.publish = Date.now() - publishStart;
    timings.total = Date.now() - run.startedAt;
    logger.error({ err, runId, phase: recorder.phase, error }, 'linkage run failed');
    if (!swapped) {
      // Marked failed and the lease freed in one transaction: "failed" means done. If
      // that fails, the lease stays until it expires (this run no longer renews it), so
      // the run is never left running without its lease; it is then failed as "lease
      // expired", and its error here is only in the log.
      await db
        .write(
          failRunRecord(cypher, lease.name, {
            id: runId,
            error,
            summary,
            timings: JSON.stringify(timings),
            stats: JSON.stringify(stats),
            own: true,
          }),
        )
        .catch((e: unknown) =>
          logger.warn(
            { err: e, runId, error },
            'could not mark the run failed; its lease is left to expire',
          ),
        );
      await discardRun(db, cypher, runId, config.LINKAGE_PUBLISH_BATCH_SIZE).catch((e: unknown) =>
        logger.warn({ err: e, runId }, 'could not remove the failed run’s clusters yet'),
      );
    }
    deps.metrics?.linkageRuns.inc({ outcome: 'failed' });
    deps.metrics?.linkageDuration.observe(
      { outcome: 'failed' },
      (Date.now() - run.startedAt) / 1000,
    );
    return { runId, status: 'failed', stats, timings, error };
  } finally {
    // Nothing frees the lease here: the swap did, or the failure record in its own
    // transaction; a lease whose failure record could not be written is left to expire.
    await lease.stopRenewing();
  }
}
