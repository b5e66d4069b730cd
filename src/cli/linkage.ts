/**
 * `coterie linkage run [--seed N]`: one linkage run from the command line, with a
 * progress bar over its phases; prints the run's final stats as JSON (stdout)
 * and exits 1 when the run failed, 2 when another run is in progress, 130 when
 * stopped by Ctrl-C or SIGTERM (the run is marked failed, its lease freed at once and
 * the current clusters stay).
 */
import { Command } from 'commander';
import { isAppError } from '../platform/errors';
import { runLinkage, stopActiveRuns } from '../linkage/runner';
import { checkRunConfig } from '../linkage/settings';
import { loadConfig } from '../platform/config';
import { STOP_SIGNALS } from '../platform/stop';
import { seedArg } from './args';
import { withRuntime } from './runtime';
import { progressBar, stopOnSignal } from './terminal';

const STOPPED = 'stopped from the command line (Ctrl-C or SIGTERM)';

export async function linkageRunCommand(opts: { seed?: number }): Promise<void> {
  // A typo in the allow-list or the weights, said before Neo4j is reached or started
  // (or its launcher built: minutes), not when the run reads them.
  checkRunConfig(loadConfig());
  await withRuntime(async (rt) => {
    const bar = progressBar(
      'linkage [{bar}] {percentage}% | {phase} | {runId} | {duration_formatted}',
    );
    let started = false;
    const stop = stopOnSignal('stopping the run: it is marked failed, the current clusters stay');
    // Not a kill: the run's record and lease would stay held until the lease expired.
    // A second stop signal (Ctrl-C again, or the terminal closing: SIGHUP) while the run
    // is being failed would kill the process with the run still "running": it only says so.
    const still = () => process.stderr.write('\nstill stopping: marking the run failed\n');
    const stopping = new Promise<void>((resolve) =>
      stop.signal.addEventListener(
        'abort',
        () => {
          for (const signal of STOP_SIGNALS) process.on(signal, still);
          void stopActiveRuns(rt, { refuseNew: true, reason: STOPPED }).finally(resolve);
        },
        { once: true },
      ),
    );
    try {
      const summary = await runLinkage(rt, {
        trigger: 'cli',
        seed: opts.seed,
        onProgress: (p) => {
          if (!started) {
            bar.start(100, 0, { phase: p.phase, runId: p.runId });
            started = true;
          }
          bar.update(Math.round(p.progress * 100), { phase: p.phase });
        },
      });
      if (started) bar.stop();
      console.log(JSON.stringify(summary, null, 2));
      if (summary.status !== 'succeeded') process.exitCode = stop.signal.aborted ? 130 : 1;
      else if (stop.signal.aborted) {
        // the stop came after the swap: the "marked failed" said then did not happen
        process.stderr.write('the run had already published when the stop came: it succeeded\n');
      }
    } catch (err) {
      if (started) bar.stop();
      if (stop.signal.aborted) {
        // 130 whatever the start then failed with: a start refused after the stop exited 2,
        // one failed (Neo4j away) exited 1 (review, 12-07).
        process.exitCode = 130;
        // not_ready: stopped before it started, which the stop has said
        if (!(isAppError(err) && err.code === 'not_ready'))
          console.error(`coterie: ${err instanceof Error ? err.message : String(err)}`);
        return;
      }
      if (isAppError(err) && err.code === 'run_in_progress') {
        console.error(
          `coterie: a linkage run is in progress (${JSON.stringify(err.details)}); try again later`,
        );
        process.exitCode = 2;
        return;
      }
      throw err;
    } finally {
      stop.dispose();
      if (stop.signal.aborted) await stopping; // the run failed and its lease freed
      for (const signal of STOP_SIGNALS) process.removeListener(signal, still);
    }
  });
}

export function linkageCommand(): Command {
  // its own Command: showHelpAfterError is not inherited from the program's
  const linkage = new Command('linkage')
    .description('linkage runs: link, cluster, score, publish')
    .showHelpAfterError();
  linkage
    .command('run')
    .description('run linkage now (one run at a time across all processes)')
    .option('--seed <n>', 'random seed (default: LINKAGE_SEED)', seedArg)
    .action(linkageRunCommand);
  return linkage;
}
