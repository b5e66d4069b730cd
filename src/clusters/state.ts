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

const states = new WeakMap<Context, AnalystState>();

export function analystState(ctx: Context): AnalystState {
  let state = states.get(ctx);
  if (!state) {
    const currentRun = new CurrentRun(ctx.db, ctx.cypher, ctx.config.CURRENT_RUN_CHECK_MS);
    const memberships = new LruCache<string, Membership>(ctx.config.MEMBERSHIP_CACHE_SIZE);
    const membershipIndex = new MembershipIndex({
      db: ctx.db,
      cypher: ctx.cypher,
      logger: ctx.logger,
      maxAccounts: ctx.config.MEMBERSHIP_INDEX_MAX_ACCOUNTS,
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
 * Re-reads the current run every CURRENT_RUN_CHECK_MS in the background (the service
 * does; tests build apps without it), so a replica drops its caches and loads the new
 * run's index right after a publish anywhere, not at its next analyst request. A failed
 * read is logged at debug and tried again at the next tick. With 0 there is no timer.
 */
export function watchCurrentRun(ctx: Context): { stop(): void } {
  const { currentRun } = analystState(ctx);
  const check = () => {
    currentRun.get().catch((err: unknown) => ctx.logger.debug({ err }, 'current run check failed'));
  };
  check();
  // 0: every analyst request reads the pointer itself; a 0 ms timer would read it non-stop
  if (ctx.config.CURRENT_RUN_CHECK_MS === 0) return { stop: () => undefined };
  const timer = setInterval(check, ctx.config.CURRENT_RUN_CHECK_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
