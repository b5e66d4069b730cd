/**
 * Per-app state the analyst features share: which run is current (checked at
 * most once a second) and the membership cache keyed by it. One instance per
 * Context, so tests can build many apps side by side.
 */
import type { Context } from '../context';
import { CurrentRun, LruCache } from '../platform/cache';
import type { Membership } from './schemas';

export interface AnalystState {
  currentRun: CurrentRun;
  /** account id → membership in the current run; cleared whenever the pointer moves */
  memberships: LruCache<string, Membership>;
}

const states = new WeakMap<Context, AnalystState>();

export function analystState(ctx: Context): AnalystState {
  let state = states.get(ctx);
  if (!state) {
    const currentRun = new CurrentRun(ctx.db, ctx.cypher, ctx.config.CURRENT_RUN_CHECK_MS);
    const memberships = new LruCache<string, Membership>(ctx.config.MEMBERSHIP_CACHE_SIZE);
    currentRun.onChange(() => memberships.clear());
    state = { currentRun, memberships };
    states.set(ctx, state);
  }
  return state;
}
