/**
 * Per-app state the analyst features share: which run is current (checked at
 * most once a second), the in-memory membership index of that run and the
 * membership cache keyed by it. One instance per Context, so tests can build
 * many apps side by side.
 */
import type { Context } from '../context';
import { CurrentRun, LruCache } from '../platform/cache';
import { MembershipIndex } from './membership-index';
import type { Membership } from './schemas';

export interface AnalystState {
  currentRun: CurrentRun;
  /** every account's membership in the current run, loaded when the pointer moves */
  membershipIndex: MembershipIndex;
  /** account id → membership in the current run; cleared whenever the pointer moves */
  memberships: LruCache<string, Membership>;
}

/** Keyed by Context; `runPublished` looks up whatever object the linkage runner was given. */
const states = new WeakMap<object, AnalystState>();

export function analystState(ctx: Context): AnalystState {
  let state = states.get(ctx);
  if (!state) {
    const currentRun = new CurrentRun(ctx.db, ctx.cypher, {
      ttlMs: ctx.config.CURRENT_RUN_CHECK_MS,
      logger: ctx.logger,
    });
    const memberships = new LruCache<string, Membership>(ctx.config.MEMBERSHIP_CACHE_SIZE);
    const membershipIndex = new MembershipIndex({
      db: ctx.db,
      cypher: ctx.cypher,
      logger: ctx.logger,
      maxAccounts: ctx.config.MEMBERSHIP_INDEX_MAX_ACCOUNTS,
      bookmarks: () => currentRun.bookmarks(),
    });
    currentRun.onChange((runId) => {
      memberships.clear();
      membershipIndex.onRun(runId);
    });
    state = { currentRun, membershipIndex, memberships };
    states.set(ctx, state);
  }
  return state;
}

/**
 * A linkage run of this process has just swapped the pointer (the runner calls it with
 * its deps, which in the service are the Context): this replica reads the pointer again
 * now rather than up to CURRENT_RUN_CHECK_MS later, so its cluster and membership
 * answers follow its own run at once. Nothing to do for a process that serves no
 * analyst reads (the CLI).
 */
export function runPublished(owner: object): void {
  const state = states.get(owner);
  if (!state) return;
  state.currentRun.invalidate();
  // Errors are the next request's to report: it reads the pointer again itself.
  state.currentRun.get().catch(() => undefined);
}

/**
 * Re-reads the current run every CURRENT_RUN_CHECK_MS in the background (the service
 * does; tests build apps without it), so a replica drops its caches and loads the new
 * run's index right after a publish anywhere, not at its next analyst request. A failed
 * read is logged at debug and tried again at the next tick. With 0 there is no timer.
 */
export function watchCurrentRun(ctx: Context): { stop(): void } {
  const { currentRun, membershipIndex } = analystState(ctx);
  // Every tick reads: a read's age is stamped when it ends, so at the next tick it is a
  // little under the period, and a check by ttl alone would skip every other tick, and
  // leave requests to wait on the reads (review, 12-05).
  const check = () => {
    currentRun
      .get(ctx.config.CURRENT_RUN_CHECK_MS / 2)
      .catch((err: unknown) => ctx.logger.debug({ err }, 'current run check failed'));
  };
  check();
  // 0: every analyst request reads the pointer itself; a 0 ms timer would read it non-stop
  const timer =
    ctx.config.CURRENT_RUN_CHECK_MS === 0
      ? undefined
      : setInterval(check, ctx.config.CURRENT_RUN_CHECK_MS).unref();
  // Stopped with the service: the index's load on its way too, before the driver closes.
  return {
    stop: () => {
      clearInterval(timer);
      membershipIndex.stop();
    },
  };
}
