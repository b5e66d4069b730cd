/**
 * Analysts' queries in worker threads (query-worker.ts), one query per worker at a
 * time, workers kept for the next query. Found by review (12-04): on this thread, one
 * huge row held the event loop while the driver decoded it (`RETURN range(1, 5000000)`:
 * 25 s without even /healthz, past the query's deadline, 576 MiB) and a bigger one would
 * run the heap out. In a worker, the deadline terminates the decode at once (504), and
 * a heap limit ends a row the worker cannot hold (422 result_too_large).
 */
import { randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { Neo4jError } from 'neo4j-driver';
import { AppError, type ErrorCode } from '../platform/errors';
import type { Logger } from '../platform/logger';
import { within } from '../platform/cache';
import { type Database, type DriverOptions, QUERY_DEADLINE_GRACE_MS } from '../platform/neo4j';
import { workerEntry } from '../platform/worker-entry';
import { packParams, type Packed, type QuerySpec } from './execute';
import type { Caps, CappedRows } from './run';

export interface QueryRequest {
  spec: Omit<QuerySpec, 'params'> & { params: Packed };
  caps: Caps;
  timeoutMs: number;
  fetchSize: number;
  tag: string;
}

export type WireError =
  | { kind: 'app'; code: ErrorCode; message: string; details?: unknown; cause?: string }
  | {
      kind: 'neo4j';
      code: string;
      message: string;
      gqlStatus: string;
      gqlStatusDescription: string;
    }
  | { kind: 'range'; message: string }
  /** `code`: a system error's (ECONNREFUSED), which says it is one (toAppError) */
  | { kind: 'other'; message: string; code?: string };

export type QueryAnswer = { rows: CappedRows } | { error: WireError };

export interface QueryOptions {
  timeoutMs: number;
  fetchSize: number;
  /** told, when the deadline or a dead worker gives the query up, when Neo4j has ended it */
  onGivenUp?: (ended: Promise<void>) => void;
}

/** What a worker posts once its module has loaded (tsx may take seconds in tests). */
export const READY = 'ready';

/** How long a new worker may take to load before its query fails. */
const WORKER_START_MS = 30_000;

const stopping = () => new AppError('not_ready', 'the service is stopping');

export class QueryWorkers {
  private readonly idle: Worker[] = [];
  /** every live worker, with the promise of its READY */
  private readonly all = new Map<Worker, Promise<void>>();
  private closed = false;

  constructor(
    private readonly db: Database,
    private readonly connection: DriverOptions,
    /** each worker's old-generation heap, MiB */
    private readonly heapMb: number,
    private readonly logger: Logger,
  ) {
    db.onClose(() => this.close());
  }

  async run(spec: QuerySpec, caps: Caps, opts: QueryOptions): Promise<CappedRows> {
    if (this.closed) throw stopping();
    const tag = randomUUID();
    // Packed before anything is armed: params it cannot pack fail here, nothing to undo.
    const request = {
      spec: { ...spec, params: packParams(spec.params) },
      caps,
      timeoutMs: opts.timeoutMs,
      fetchSize: opts.fetchSize,
      tag,
    } satisfies QueryRequest;
    const worker = this.idle.pop() ?? this.spawn();
    // The deadline counts from the query's start, not the worker's (loading takes
    // seconds under tsx on a busy machine); a worker that never loads is given up on.
    try {
      await within(
        this.all.get(worker) ?? Promise.resolve(),
        WORKER_START_MS,
        () =>
          new AppError('internal', `the query worker did not start within ${WORKER_START_MS} ms`),
      );
    } catch (err) {
      this.discard(worker);
      throw this.closed ? stopping() : err;
    }
    if (this.closed) throw stopping();
    return new Promise<CappedRows>((resolve, reject) => {
      const settle = (reusable: boolean) => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        if (reusable && !this.closed) this.idle.push(worker);
        else this.discard(worker);
      };
      const giveUp = (err: AppError) => {
        settle(false);
        opts.onGivenUp?.(this.db.transactionGone(tag));
        reject(err);
      };
      const timer = setTimeout(
        () => giveUp(new AppError('query_timeout', 'the query ran past its time limit')),
        opts.timeoutMs + QUERY_DEADLINE_GRACE_MS,
      );
      const onMessage = (m: QueryAnswer) => {
        if (typeof m !== 'object') return; // READY, already handled
        if ('rows' in m) {
          settle(true);
          resolve(m.rows);
          return;
        }
        // Reused after an answer or one of Neo4j's or our errors; not after a failure
        // in the driver itself (a RangeError while decoding), which may leave it stuck.
        settle(m.error.kind === 'app' || m.error.kind === 'neo4j');
        reject(fromWire(m.error));
      };
      const onError = (err: Error & { code?: string }) =>
        giveUp(
          err.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? new AppError(
                'result_too_large',
                `the result is larger than the service reads for one query (${this.heapMb} MiB of heap): return less, or smaller values`,
              )
            : new AppError('internal', 'the query worker failed', { cause: err }),
        );
      const onExit = (code: number) =>
        giveUp(
          this.closed
            ? stopping()
            : new AppError('internal', 'the query worker exited', {
                cause: new Error(`exit code ${code}`),
              }),
        );
      worker.on('message', onMessage);
      worker.once('error', onError);
      worker.once('exit', onExit);
      try {
        worker.postMessage(request);
      } catch (err) {
        // Not cloneable: the worker never had it, and stays for the next query.
        settle(true);
        reject(err);
      }
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.idle.length = 0;
    const workers = [...this.all.keys()];
    this.all.clear();
    await Promise.all(workers.map((w) => w.terminate()));
  }

  private spawn(): Worker {
    const { file, execArgv } = workerEntry(__dirname, 'query-worker');
    const worker = new Worker(file, {
      workerData: { connection: this.connection },
      execArgv,
      resourceLimits: { maxOldGenerationSizeMb: this.heapMb },
    });
    // An idle worker must not keep the process alive; close() ends them all.
    worker.unref();
    let failure: Error | undefined;
    const ready = new Promise<void>((resolve, reject) => {
      const onReady = (m: unknown) => {
        if (m !== READY) return;
        worker.off('message', onReady);
        resolve();
      };
      worker.on('message', onReady);
      worker.once('exit', () =>
        reject(new AppError('internal', 'the query worker did not start', { cause: failure })),
      );
    });
    ready.catch(() => undefined); // a worker that never started is the query's error
    this.all.set(worker, ready);
    // For the worker's whole life, not one query's: an 'error' no one listens to would
    // be thrown in this thread (one can come after its query was given up on, an
    // out-of-memory exit racing the deadline), and a worker gone while idle must not be
    // handed the next query.
    worker.on('error', (err) => {
      failure = err;
      this.logger.warn({ err }, 'analyst query worker failed');
    });
    worker.on('exit', () => {
      this.all.delete(worker);
      const at = this.idle.indexOf(worker);
      if (at >= 0) this.idle.splice(at, 1);
    });
    return worker;
  }

  /** Terminated: its socket goes with it, so Neo4j ends the transaction it was reading. */
  private discard(worker: Worker): void {
    this.all.delete(worker);
    void worker.terminate().catch(() => undefined);
  }
}

function fromWire(e: WireError): Error {
  switch (e.kind) {
    case 'app':
      return new AppError(e.code, e.message, {
        details: e.details,
        cause: e.cause === undefined ? undefined : new Error(e.cause),
      });
    case 'neo4j':
      return new Neo4jError(e.message, e.code, e.gqlStatus, e.gqlStatusDescription);
    case 'range':
      return new RangeError(e.message);
    default:
      return Object.assign(new Error(e.message), e.code === undefined ? {} : { code: e.code });
  }
}
