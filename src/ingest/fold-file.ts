/**
 * Reads, validates and folds a whole JSON-lines file (the first load's first step),
 * on several threads when the file is plain and big enough: each (this one and worker
 * threads) folds a byte range of whole lines, and the folds are merged here in input
 * order. The result is exactly a one-thread fold of the file (a fold does not depend on
 * the order of its events), and events with idempotency keys are kept aside by the
 * ranges and de-duplicated here in line order (the first in the file counts).
 */
import { availableParallelism } from 'node:os';
import { open } from 'node:fs/promises';
import { getHeapStatistics } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { workerEntry } from '../platform/worker-entry';
import { Aggregator } from './aggregate';
import type { CleanEvent } from './event-schema';
import { openLines, parseLine, type Rejected } from './importer';

export interface FoldedFile {
  fold: Aggregator;
  /** idempotency keys of the events kept */
  eventIds: Set<string>;
  lines: number;
  written: number;
  duplicates: number;
  /** in line order */
  rejects: Rejected[];
  /** the (decoded) text ended with a line break, or is empty (import-identity.ts) */
  endsWithNewline: boolean;
}

/** What one byte range gives back (plain data: it crosses threads). */
export interface RangeResult {
  lines: number;
  rejects: Rejected[];
  /** events with an idempotency key, in line order, not folded */
  keyed: CleanEvent[];
  unkeyed: number;
  endsWithNewline: boolean;
  state: Map<string, unknown>;
}

export interface FoldFileOptions {
  /** threads; default: one per 8 MiB of a plain file, at most one per core and 4 (1 below 16 MiB) */
  workers?: number;
  /** bytes of the file read so far (progress) */
  onBytes?: (n: number) => void;
  signal?: AbortSignal;
  /** read only the file's first `size` bytes (a plain file's, through its last line break) */
  size?: number;
  /** the longest line read (default MAX_LINE_BYTES; longer ones are rejected) */
  maxLineBytes?: number;
}

const MIN_BYTES_PER_WORKER = 8 * 2 ** 20;

/** Folds lines [start, end) of the file (end undefined: to its end; .gz only whole). */
export async function foldRange(
  file: string,
  range: { start: number; end?: number },
  onBytes: (n: number) => void = () => undefined,
  signal?: AbortSignal,
  maxLineBytes?: number,
): Promise<RangeResult> {
  const fold = new Aggregator();
  const result: Omit<RangeResult, 'state' | 'endsWithNewline'> = {
    lines: 0,
    rejects: [],
    keyed: [],
    unkeyed: 0,
  };
  const { lines, close, endsWithNewline } = openLines(file, onBytes, range, { maxLineBytes });
  try {
    for await (const line of lines) {
      const lineNo = ++result.lines;
      if (lineNo % 10_000 === 0 && signal?.aborted) break;
      if (typeof line === 'string' && line.trim() === '') continue;
      const event = parseLine(line, lineNo);
      if ('reason' in event) result.rejects.push(event);
      else if (event.id !== undefined) result.keyed.push(event);
      else {
        result.unkeyed++;
        fold.add(event);
      }
    }
  } finally {
    close();
  }
  return { ...result, endsWithNewline: endsWithNewline(), state: fold.state() };
}

/** Returns null when stopped by `signal`. */
export async function foldFile(
  file: string,
  opts: FoldFileOptions = {},
): Promise<FoldedFile | null> {
  const ranges = await splitFile(file, opts.workers, opts.size);
  // This thread folds the first range itself: one worker fewer to start, and its fold
  // needs no copying between threads.
  const pending = ranges.map((r, i) =>
    i === 0
      ? foldRange(file, r, opts.onBytes, opts.signal, opts.maxLineBytes)
      : foldInWorker(file, r, opts),
  );
  // Rejections are awaited below, in order; until then none may go unhandled.
  for (const p of pending) p.catch(() => undefined);

  const out: FoldedFile = {
    fold: new Aggregator(),
    eventIds: new Set(),
    lines: 0,
    written: 0,
    duplicates: 0,
    rejects: [],
    endsWithNewline: true,
  };
  // Each range is merged as soon as it and those before it are done: this thread
  // merges its own range while the workers are still finishing theirs.
  for (const next of pending) {
    const r = await next;
    if (opts.signal?.aborted) break;
    const offset = out.lines;
    out.lines += r.lines;
    for (const reject of r.rejects) out.rejects.push({ ...reject, line: offset + reject.line });
    out.fold.merge(Aggregator.fromState(r.state));
    out.written += r.unkeyed;
    out.endsWithNewline = r.endsWithNewline; // the last range's is the file's
    for (const event of r.keyed) {
      const id = event.id as string;
      if (out.eventIds.has(id)) {
        out.duplicates++;
        continue;
      }
      out.eventIds.add(id);
      out.written++;
      out.fold.add(event);
    }
  }
  if (opts.signal?.aborted) {
    await Promise.allSettled(pending); // no worker outlives the call
    return null;
  }
  return out;
}

/** Byte ranges of whole lines, one per worker; a single range for .gz or small files. */
async function splitFile(
  file: string,
  workers?: number,
  readBytes?: number,
): Promise<{ start: number; end?: number }[]> {
  const handle = await open(file, 'r');
  try {
    const size = readBytes ?? (await handle.stat()).size;
    const n = file.endsWith('.gz')
      ? 1
      : (workers ??
        Math.max(1, Math.min(4, availableParallelism(), Math.floor(size / MIN_BYTES_PER_WORKER))));
    const cuts = [0];
    const buf = Buffer.alloc(64 * 1024);
    for (let i = 1; i < n; i++) {
      // The cut goes just after the first line break at or past an even share.
      let at = Math.max(Math.floor((size * i) / n), cuts[cuts.length - 1] as number);
      for (;;) {
        const { bytesRead } = await handle.read(buf, 0, buf.length, at);
        if (bytesRead === 0) {
          at = size;
          break;
        }
        const nl = buf.subarray(0, bytesRead).indexOf(10);
        if (nl >= 0) {
          at += nl + 1;
          break;
        }
        at += bytesRead;
      }
      if (at > (cuts[cuts.length - 1] as number) && at < size) cuts.push(at);
    }
    return cuts.map((start, i) => ({ start, end: cuts[i + 1] ?? readBytes }));
  } finally {
    await handle.close();
  }
}

type FoldMessage =
  | { type: 'bytes'; n: number }
  | { type: 'done'; result: RangeResult }
  | { type: 'failed'; message: string };

export interface FoldWorkerInput {
  file: string;
  range: { start: number; end?: number };
  maxLineBytes?: number;
}

function foldInWorker(
  file: string,
  range: FoldWorkerInput['range'],
  opts: FoldFileOptions,
): Promise<RangeResult> {
  const { file: entry, execArgv } = workerEntry(__dirname, 'fold-worker');
  const worker = new Worker(entry, {
    workerData: { file, range, maxLineBytes: opts.maxLineBytes } satisfies FoldWorkerInput,
    execArgv,
    // The worker holds its share of the fold: give it this thread's heap limit.
    resourceLimits: {
      maxOldGenerationSizeMb: Math.round(getHeapStatistics().heap_size_limit / 2 ** 20),
    },
  });
  const stop = () => void worker.terminate();
  opts.signal?.addEventListener('abort', stop, { once: true });
  return new Promise<RangeResult>((resolve, reject) => {
    let done: RangeResult | undefined;
    worker.on('message', (m: FoldMessage) => {
      if (m.type === 'bytes') opts.onBytes?.(m.n);
      else if (m.type === 'done') done = m.result;
      // A read error names the file and where already (openLines).
      else
        reject(
          new Error(
            m.message.startsWith(`reading ${file} `) ? m.message : `reading ${file}: ${m.message}`,
          ),
        );
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      opts.signal?.removeEventListener('abort', stop);
      if (done) resolve(done);
      else if (opts.signal?.aborted)
        resolve({
          lines: 0,
          rejects: [],
          keyed: [],
          unkeyed: 0,
          endsWithNewline: true,
          state: new Map(),
        });
      else reject(new Error(`the fold worker for ${file} exited (code ${code}) without a result`));
    });
  });
}
