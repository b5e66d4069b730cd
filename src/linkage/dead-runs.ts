/**
 * Runs a dead process left marked `running` are failed within about a lease TTL, not
 * only when the next run takes the lease (with the nightly schedule, that could be a
 * day later). Every replica checks at start-up and then every TTL / 2 (at most a
 * minute); a check is one read, and writes only when it finds a dead run.
 */
import { query } from '../platform/cypher';
import { toNumber } from '../platform/neo4j';
import { type DeadRuns, LEASE_NAME, failDeadRunsIn } from './lease';
import type { LinkageDeps } from './runner';

export type { DeadRuns } from './lease';

/** Fails the runs that are marked running without a live lease; see the statement. */
export async function failDeadRuns(
  deps: Pick<LinkageDeps, 'db' | 'cypher' | 'logger'>,
  name = LEASE_NAME,
): Promise<DeadRuns> {
  const found = await deps.db.read(async (tx) => {
    const res = await tx.run(query(deps.cypher, 'linkage/read-dead-runs'), { name });
    return toNumber(res.records[0]?.get('dead') ?? 0);
  });
  if (found === 0) return { expired: null, abandoned: [] };
  const dead = await deps.db.write((tx) => failDeadRunsIn(tx, deps.cypher, name));
  if (dead.expired !== null || dead.abandoned.length > 0)
    deps.logger.warn({ ...dead }, 'marked dead linkage runs failed');
  return dead;
}

/**
 * The service's periodic check; a failed check is logged and tried again next tick. A
 * tick while a check is still in flight (the driver retrying while Neo4j is away) is
 * skipped, so checks never pile up. `started` resolves once the start-up check has ended.
 */
export function watchDeadRuns(deps: LinkageDeps): {
  started: Promise<void>;
  stop(): Promise<void>;
} {
  const every = Math.min(60_000, Math.max(1_000, Math.floor(deps.config.LINKAGE_LEASE_TTL_MS / 2)));
  let inFlight: Promise<void> | undefined;
  const check = () => {
    if (inFlight) return;
    inFlight = failDeadRuns(deps)
      .then(
        () => undefined,
        (err: unknown) => deps.logger.warn({ err }, 'checking for dead linkage runs failed'),
      )
      .finally(() => (inFlight = undefined));
  };
  check();
  const started = inFlight ?? Promise.resolve();
  const timer = setInterval(check, every);
  timer.unref();
  // Resolves once a check on its way has ended: the stop closes the driver after it.
  return {
    started,
    stop: async () => {
      clearInterval(timer);
      await inFlight;
    },
  };
}
