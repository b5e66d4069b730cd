/**
 * The in-service schedule of linkage runs (croner): LINKAGE_CRON, default nightly
 * at 03:00 (server time zone), "off" to disable. Every replica may run the
 * schedule: the lease lets one of them run and the others find a run in progress,
 * log it and skip the tick.
 */
import { Cron } from 'croner';
import { isAppError } from '../platform/errors';
import { type LinkageDeps, type RunOptions, startLinkage } from './runner';
import { cronPattern } from './settings';

export interface LinkageSchedule {
  /** next planned tick, null when off */
  next(): Date | null;
  /**
   * No tick from now on; resolves once a tick's start under way has settled. The run it
   * started is not waited for here: shutdown waits for every run of the process.
   */
  stop(): Promise<void>;
}

/** `options`: a test's hooks for the runs the ticks start. */
export function startLinkageSchedule(
  deps: LinkageDeps,
  options: Omit<RunOptions, 'trigger'> = {},
): LinkageSchedule {
  const pattern = cronPattern(deps.config.LINKAGE_CRON);
  if (pattern === null) {
    deps.logger.info('linkage schedule is off (LINKAGE_CRON=off)');
    return { next: () => null, stop: () => Promise.resolve() };
  }
  const tick = async () => {
    try {
      const { done } = await startLinkage(deps, { ...options, trigger: 'cron' });
      // Not awaited: a run stuck in a call that never returns (failed at its deadline, its
      // lease freed) held every later tick, unlogged, until a restart (review, 12-07).
      // A tick during a run finds the lease taken instead, and says so.
      void done.then((summary) => {
        if (summary.status === 'failed')
          deps.logger.error(
            { runId: summary.runId, error: summary.error },
            'scheduled linkage run failed',
          );
      });
    } catch (err) {
      if (isAppError(err) && err.code === 'run_in_progress') {
        deps.logger.info(
          { runningRunId: (err.details as { runId?: string } | undefined)?.runId },
          'scheduled linkage run skipped: a run is in progress',
        );
        return;
      }
      deps.logger.error({ err }, 'scheduled linkage run could not start');
    }
  };
  // protect: a tick never starts while the one before is still taking the lease
  let ticking: Promise<void> = Promise.resolve();
  const job = new Cron(pattern, { name: 'linkage', protect: true }, () => (ticking = tick()));
  deps.logger.info({ pattern, next: job.nextRun()?.toISOString() }, 'linkage schedule started');
  return {
    next: () => job.nextRun(),
    stop: () => {
      job.stop();
      return ticking;
    },
  };
}
