/**
 * Runs compute() in a worker thread and relays its phases and progress. The runner
 * keeps the lease, the run record and publish on the main thread, whose event loop
 * now stays free during build, detect and score (seconds each at 1M accounts).
 *
 * Stopping: `checkAbort` is polled; when it throws (lease lost, shutdown) the worker
 * is terminated at once, even mid-stage, and the call rejects with that error.
 */
import { Worker } from 'node:worker_threads';
import { AppError, type ErrorCode } from '../platform/errors';
import type { DriverOptions } from '../platform/neo4j';
import { workerEntry } from '../platform/worker-entry';
import type { ComputeEvents, ComputeParams, ComputePhase, ComputeResult } from './compute';

export interface WorkerInput {
  connection: DriverOptions;
  params: ComputeParams;
}

export type WorkerMessage =
  | { type: 'phase'; phase: ComputePhase; at: number }
  | { type: 'progress'; fraction: number }
  | { type: 'done'; result: ComputeResult }
  | { type: 'failed'; error: { message: string; code?: ErrorCode } };

const ABORT_POLL_MS = 250;

export function computeInWorker(
  connection: DriverOptions,
  params: ComputeParams,
  events: ComputeEvents,
): Promise<ComputeResult> {
  const { file, execArgv } = workerEntry(__dirname, 'compute-worker');
  const worker = new Worker(file, {
    workerData: { connection, params } satisfies WorkerInput,
    execArgv,
  });
  return new Promise<ComputeResult>((resolve, reject) => {
    let settled = false;
    let answered = false; // 'done' or 'failed' arrived; the worker exits right after
    // Phase callbacks may be async (they record the phase); kept in order, progress with them.
    let chain: Promise<void> = Promise.resolve();
    const finish = (err: unknown, result?: ComputeResult) => {
      if (settled) return;
      settled = true;
      clearInterval(poll);
      if (err !== undefined) {
        void worker.terminate();
        reject(err);
      } else resolve(result as ComputeResult);
    };
    const poll = setInterval(() => {
      try {
        events.checkAbort?.();
      } catch (err) {
        finish(err);
      }
    }, ABORT_POLL_MS);
    worker.on('message', (m: WorkerMessage) => {
      if (settled) return; // stopped or failed: nothing more to record
      if (m.type === 'phase') {
        chain = chain.then(() => events.phase(m.phase, m.at)).catch((err: unknown) => finish(err));
      } else if (m.type === 'progress') {
        // Behind the phase it belongs to: told while that phase is still being recorded, a
        // fraction was counted in the phase before, and progress went back (review, 12-05).
        chain = chain
          .then(() => {
            if (!settled) events.progress(m.fraction);
          })
          .catch((err: unknown) => finish(err));
      } else if (m.type === 'done') {
        answered = true;
        chain.then(() => finish(undefined, m.result), finish);
      } else {
        answered = true;
        const { message, code } = m.error;
        chain.then(() => finish(code ? new AppError(code, message) : new Error(message)), finish);
      }
    });
    worker.on('error', (err) => finish(err));
    worker.on('exit', (code) => {
      if (!answered)
        finish(new Error(`the linkage worker exited (code ${code}) before it finished`));
    });
  });
}
