/**
 * The in-service schedule of linkage runs (croner): LINKAGE_CRON, default nightly
 * at 03:00 (server time zone), "off" to disable. Every replica may run the
 * schedule: the lease lets one of them run and the others find a run in progress,
 * log it and skip the tick.
 */
import { Cron } from 'croner';
import { isAppError } from '../platform/errors';
import { type LinkageDeps, runLinkage } from './runner';
import { cronPattern } from './settings';

export interface LinkageSchedule {
  /** next planned tick, null when off */
  next(): Date | null;
  /** No tick from now on; resolves once a tick already under way has settled. */
  stop(): Promise<void>;
}

export function startLinkageSchedule(deps: LinkageDeps): LinkageSchedule {
  const pattern = cronPattern(deps.config.LINKAGE_CRON);
  if (pattern === null) {
    deps.logger.info('linkage schedule is off (LINKAGE_CRON=off)');
    return { next: () => null, stop: () => Promise.resolve() };
  }
  const tick = async () => {
    try {
      const summary = await runLinkage(deps, { trigger: 'cron' });
      if (summary.status === 'failed')
        deps.logger.error(
          { runId: summary.runId, error: summary.error },
          'scheduled linkage run failed',
        );
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
  // protect: a tick never starts while the one before is still under way
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
