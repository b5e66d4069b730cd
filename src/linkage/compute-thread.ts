/**
 * Runs compute() in a worker thread and relays its phases and progress. The runner
 * keeps the lease, the run record and publish on the main thread, whose event loop
 * now stays free during build, detect and score (seconds each at 1M accounts).
 *
 * Stopping: `checkAbort` is polled; when it throws (lease lost, shutdown) the worker
 * is terminated at once, even mid-stage, and the call rejects with that error.
 */
import { Worker } from 'node:worker_threads';
import { AppError, type ErrorCode, isAppError } from '../platform/errors';
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
  | { type: 'failed'; error: WorkerError };

/**
 * An error as the worker sends it: what the main thread needs to rebuild it whole, its
 * stack (where in build or extract it was thrown) and its causes (the driver's own error
 * under a database_unavailable), which a bare message lost (review, 12-05).
 */
export interface WorkerError {
  name: string;
  message: string;
  code?: ErrorCode;
  stack?: string;
  cause?: WorkerError;
}

/** At most this many causes deep: a cycle of causes ends here. */
const MAX_CAUSES = 5;

export function toWorkerError(err: unknown, depth = 0): WorkerError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const cause = (err as { cause?: unknown }).cause;
  return {
    name: err.name,
    message: err.message,
    code: isAppError(err) ? err.code : undefined,
    stack: err.stack,
    cause: cause === undefined || depth >= MAX_CAUSES ? undefined : toWorkerError(cause, depth + 1),
  };
}

/** The error rebuilt on this side: an AppError keeps its code (its HTTP status), and all their stacks. */
export function fromWorkerError(e: WorkerError): Error {
  const options = e.cause === undefined ? {} : { cause: fromWorkerError(e.cause) };
  const err = e.code ? new AppError(e.code, e.message, options) : new Error(e.message, options);
  if (!e.code) err.name = e.name;
  if (e.stack !== undefined) err.stack = e.stack;
  return err;
}

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
        // Not once settled (the worker died with this still queued): the run's failure is
        // being recorded, and a phase begun now would move it (review, 12-05).
        chain = chain
          .then(() => (settled ? undefined : events.phase(m.phase, m.at)))
          .catch((err: unknown) => finish(err));
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
        chain.then(() => finish(fromWorkerError(m.error)), finish);
      }
    });
    worker.on('error', (err) => finish(err));
    worker.on('exit', (code) => {
      if (!answered)
        finish(new Error(`the linkage worker exited (code ${code}) before it finished`));
    });
  });
}
