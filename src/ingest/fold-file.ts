/**
 * Reads, validates and folds a whole JSON-lines file (the first load's first step),
 * on several threads when the file is plain and big enough: each (this one and worker
 * threads) folds a byte range of whole lines, and the folds are merged here in input
 * order. The result is exactly a one-thread fold of the file (a fold does not depend on
 * the order of its events), and events with idempotency keys are kept aside by the
 * ranges and de-duplicated here in line order (the first in the file counts).
 *
 * Bad lines are not held: each range appends them to a part file as it reads, and the
 * parts are joined into the reject file, in line order, once the fold is in (a file of
 * 100 M bad lines would otherwise hold 100 M reasons in memory).
 */
import { closeSync, createReadStream, openSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { availableParallelism } from 'node:os';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { getHeapStatistics } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { workerEntry } from '../platform/worker-entry';
import { Aggregator } from './aggregate';
import { isGzipFile } from './gzip-file';
import type { CleanEvent } from './event-schema';
import { openLines, parseLine } from './importer';

export interface FoldedFile {
  fold: Aggregator;
  /** idempotency keys of the events kept */
  eventIds: Set<string>;
  lines: number;
  written: number;
  duplicates: number;
  /** bad lines, written to the reject file */
  rejected: number;
  /** the (decoded) text ended with a line break, or is empty (import-identity.ts) */
  endsWithNewline: boolean;
}

/** What one byte range gives back (plain data: it crosses threads). */
export interface RangeResult {
  lines: number;
  /** bad lines, appended to the range's part file (line numbers within the range) */
  rejected: number;
  /** events with an idempotency key, in line order, not folded */
  keyed: CleanEvent[];
  unkeyed: number;
  endsWithNewline: boolean;
  state: Map<string, unknown>;
}

export interface FoldFileOptions {
  /**
   * Where bad lines go, one JSON object per line (line, reason, issues) in line order:
   * replaced once the fold is in, untouched when it is stopped or fails.
   */
  rejectFile: string;
  /**
   * Where each thread's reject part is written while the file is read: default beside
   * `rejectFile`, which fails when that is /dev/null or /dev/stderr (review, 12-05).
   */
  partsDir?: string;
  /** threads; default: one per 8 MiB of a plain file, at most one per core and 4 (1 below 16 MiB) */
  workers?: number;
  /** bytes of the file read so far (progress) */
  onBytes?: (n: number) => void;
  signal?: AbortSignal;
  /** read only the file's first `size` bytes (a plain file's, through its last line break) */
  size?: number;
  /** the longest line read (default MAX_LINE_BYTES; longer ones are rejected) */
  maxLineBytes?: number;
  /**
   * The import's content key, added to each reject entry as `import` (as the online
   * importer does); a promise, since the file is hashed while it is folded.
   */
  importKey?: Promise<string>;
}

const MIN_BYTES_PER_WORKER = 8 * 2 ** 20;

/**
 * Folds lines [start, end) of the file (end undefined: to its end; .gz only whole); its
 * bad lines are appended to `rejectsPart` (created), numbered within the range.
 */
export async function foldRange(
  file: string,
  range: { start: number; end?: number },
  rejectsPart: string,
  onBytes: (n: number) => void = () => undefined,
  signal?: AbortSignal,
  maxLineBytes?: number,
  gz?: boolean,
): Promise<RangeResult> {
  const fold = new Aggregator();
  const result: Omit<RangeResult, 'state' | 'endsWithNewline'> = {
    lines: 0,
    rejected: 0,
    keyed: [],
    unkeyed: 0,
  };
  const rejects = new LineWriter(rejectsPart);
  const { lines, close, endsWithNewline } = openLines(file, onBytes, range, { maxLineBytes, gz });
  try {
    for await (const line of lines) {
      const lineNo = ++result.lines;
      if (lineNo % 10_000 === 0 && signal?.aborted) break;
      if (typeof line === 'string' && line.trim() === '') continue;
      const event = parseLine(line, lineNo);
      if ('reason' in event) {
        result.rejected++;
        rejects.write(JSON.stringify(event));
      } else if (event.id !== undefined) result.keyed.push(event);
      else {
        result.unkeyed++;
        fold.add(event);
      }
    }
  } finally {
    close();
    rejects.close();
  }
  return { ...result, endsWithNewline: endsWithNewline(), state: fold.state() };
}

/** Appends lines to a file it creates, a few hundred KiB at a time. */
class LineWriter {
  private readonly fd: number;
  private buffered: string[] = [];
  private size = 0;

  constructor(file: string) {
    this.fd = openSync(file, 'w');
  }

  write(line: string): void {
    this.buffered.push(line, '\n');
    this.size += line.length + 1;
    if (this.size >= 256 * 1024) this.flush();
  }

  private flush(): void {
    if (this.buffered.length > 0) writeSync(this.fd, this.buffered.join(''));
    this.buffered = [];
    this.size = 0;
  }

  close(): void {
    try {
      this.flush();
    } finally {
      closeSync(this.fd);
    }
  }
}

/**
 * Joins the ranges' part files into `rejectFile`, in range order, numbering each line
 * within the file: a part line is `{"line":N,…}` (parseLine puts `line` first); with
 * `importKey`, each ends `,"import":KEY}` as the online importer's entries do.
 */
async function joinRejects(
  rejectFile: string,
  parts: { file: string; offset: number }[],
  importKey?: string,
) {
  const tail = importKey === undefined ? '}' : `,"import":${JSON.stringify(importKey)}}`;
  const out = new LineWriter(rejectFile);
  try {
    for (const { file, offset } of parts) {
      const input = createReadStream(file);
      try {
        for await (const line of createInterface({ input, crlfDelay: Infinity })) {
          const m = /^\{"line":(\d+)([,}])/.exec(line);
          if (!m) throw new Error(`unexpected line in ${file}: ${line.slice(0, 40)}`);
          const rest = line.slice(m[0].length - 1, -1); // without its closing brace
          out.write(`{"line":${offset + Number(m[1])}${rest}${tail}`);
        }
      } finally {
        input.destroy();
      }
    }
  } finally {
    out.close();
  }
}

/** Returns null when stopped by `signal`. */
export async function foldFile(file: string, opts: FoldFileOptions): Promise<FoldedFile | null> {
  const gz = isGzipFile(file);
  const ranges = await splitFile(file, gz ? 1 : opts.workers, opts.size);
  // Stopped while the file was split: no worker is started (one started after the abort
  // would not hear it, and would fold its whole range).
  if (opts.signal?.aborted) return null;
  const parts = ranges.map((_, i) =>
    opts.partsDir === undefined
      ? `${opts.rejectFile}.${process.pid}.${i}.part`
      : path.join(opts.partsDir, `rejects.${process.pid}.${i}.part`),
  );
  try {
    return await foldRanges(file, ranges, parts, gz, opts);
  } finally {
    for (const part of parts) rmSync(part, { force: true });
  }
}

async function foldRanges(
  file: string,
  ranges: { start: number; end?: number }[],
  parts: string[],
  gz: boolean,
  opts: FoldFileOptions,
): Promise<FoldedFile | null> {
  // This thread folds the first range itself: one worker fewer to start, and its fold
  // needs no copying between threads.
  const pending = ranges.map((r, i) =>
    i === 0
      ? foldRange(file, r, parts[0] as string, opts.onBytes, opts.signal, opts.maxLineBytes, gz)
      : foldInWorker(file, r, parts[i] as string, opts),
  );
  // Rejections are awaited below, in order; until then none may go unhandled.
  for (const p of pending) p.catch(() => undefined);
  const offsets: number[] = [];

  const out: FoldedFile = {
    fold: new Aggregator(),
    eventIds: new Set(),
    lines: 0,
    written: 0,
    duplicates: 0,
    rejected: 0,
    endsWithNewline: true,
  };
  // Each range is merged as soon as it and those before it are done: this thread
  // merges its own range while the workers are still finishing theirs.
  for (const next of pending) {
    const r = await next;
    if (opts.signal?.aborted) break;
    offsets.push(out.lines);
    out.lines += r.lines;
    out.rejected += r.rejected;
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
  // A stop while the file is still hashed aborts the hash: stopped, not failed.
  let key: string | undefined;
  try {
    key = await opts.importKey;
  } catch (err) {
    if (opts.signal?.aborted) return null;
    throw err;
  }
  if (opts.signal?.aborted) return null;
  await joinRejects(
    opts.rejectFile,
    parts.map((part, i) => ({ file: part, offset: offsets[i] as number })),
    key,
  );
  return out;
}

/** Byte ranges of whole lines, one per worker (the caller asks one for gzip); one for small files. */
async function splitFile(
  file: string,
  workers?: number,
  readBytes?: number,
): Promise<{ start: number; end?: number }[]> {
  const handle = await open(file, 'r');
  try {
    const size = readBytes ?? (await handle.stat()).size;
    const n =
      workers ??
      Math.max(1, Math.min(4, availableParallelism(), Math.floor(size / MIN_BYTES_PER_WORKER)));
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
  rejectsPart: string;
  maxLineBytes?: number;
}

function foldInWorker(
  file: string,
  range: FoldWorkerInput['range'],
  rejectsPart: string,
  opts: FoldFileOptions,
): Promise<RangeResult> {
  const { file: entry, execArgv } = workerEntry(__dirname, 'fold-worker');
  const worker = new Worker(entry, {
    workerData: {
      file,
      range,
      rejectsPart,
      maxLineBytes: opts.maxLineBytes,
    } satisfies FoldWorkerInput,
    execArgv,
    // The worker holds its share of the fold: give it this thread's heap limit.
    resourceLimits: {
      maxOldGenerationSizeMb: Math.round(getHeapStatistics().heap_size_limit / 2 ** 20),
    },
  });
  const stop = () => void worker.terminate();
  if (opts.signal?.aborted) stop();
  else opts.signal?.addEventListener('abort', stop, { once: true });
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
          rejected: 0,
          keyed: [],
          unkeyed: 0,
          endsWithNewline: true,
          state: new Map(),
        });
      else reject(new Error(`the fold worker for ${file} exited (code ${code}) without a result`));
    });
  });
}
