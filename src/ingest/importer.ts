/**
 * Bulk import of a JSON-lines file (optionally gzipped) through the same
 * validation and writer as POST /v1/events. Bad lines go to a reject file with
 * their line number and reason (never the line itself: it may hold a prompt).
 * Events are folded as they are read, a window of `batchSize` events at a time
 * (an account's requests across the window become one row per shared value). A
 * window is written in parts, each one transaction with its checkpoint: first the
 * events with idempotency keys (at most `partRows` a part, in line order), then the
 * folded rows cut into groups of accounts of at most `partRows` rows (so a big window
 * never needs a big transaction). The checkpoint records the last whole window's
 * line and how many parts of the next one are in; the fold is deterministic, so a
 * resumed import re-reads that window, cuts it the same way and skips the parts
 * already written: nothing counted twice.
 */
import { createHash } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { type CypherMap, query } from '../platform/cypher';
import type { Database, ManagedTransaction } from '../platform/neo4j';
import { toNumber } from '../platform/neo4j';
import type { CleanEvent } from './event-schema';
import { cleanEvent } from './validate';
import { type EventWriter, PendingBatch } from './writer';

export interface ImportProgress {
  bytesRead: number;
  totalBytes: number;
  lines: number;
  written: number;
  duplicates: number;
  rejected: number;
}

export interface ImportOptions {
  file: string;
  /** events per window (folded together) */
  batchSize: number;
  /** most rows per transaction (default 50,000) */
  partRows?: number;
  rejectFile?: string;
  /** Called once before the first write (counts so far, from the checkpoint), then after each window. */
  onProgress?: (p: ImportProgress) => void;
  /** Stops after the part in flight; the checkpoint makes the next run resume. */
  signal?: AbortSignal;
}

export interface ImportSummary extends ImportProgress {
  /** What this process added; the other counts are the whole file's, checkpoint included. */
  thisRun: { written: number; duplicates: number; rejected: number };
  resumedFromLine: number;
  rejectFile: string;
  interrupted: boolean;
  seconds: number;
}

interface Checkpoint {
  line: number;
  written: number;
  duplicates: number;
  rejected: number;
  window: OpenWindow | null;
}

/** A window whose first parts are committed and the rest not (yet). */
interface OpenWindow {
  end: number;
  parts: number;
  partRows: number;
  written: number;
  duplicates: number;
}

const DEFAULT_PART_ROWS = 50_000;

export class Importer {
  constructor(
    private readonly db: Database,
    private readonly cypher: CypherMap,
    private readonly writer: EventWriter,
  ) {}

  async run(opts: ImportOptions): Promise<ImportSummary> {
    const started = Date.now();
    const file = path.resolve(opts.file);
    const totalBytes = statSync(file).size;
    const key = await fileKey(file, totalBytes);
    const rejectFile = opts.rejectFile ?? `${file}.rejects.jsonl`;
    const checkpoint = await this.readCheckpoint(key);
    const resumedFromLine = checkpoint.line;
    keepRejectsUpTo(rejectFile, resumedFromLine);
    const rejects = createWriteStream(rejectFile, { flags: 'a' });

    const progress: ImportProgress = {
      bytesRead: 0,
      totalBytes,
      lines: 0,
      written: checkpoint.written,
      duplicates: checkpoint.duplicates,
      rejected: checkpoint.rejected,
    };
    // A first report before anything is written: the counts a resumed import starts from.
    opts.onProgress?.({ ...progress });
    const { raw, lines } = openLines(file, (n) => (progress.bytesRead += n));

    let batch = new PendingBatch();
    let inFlight: Promise<void> = Promise.resolve();
    let lineNo = 0;
    let interrupted = false;
    // The first window of a resumed import is the one its checkpoint left open.
    let reopen = checkpoint.window;
    // One window writes while the next one is parsed; writes stay in line order.
    const flush = async (lastLine: number) => {
      const window = batch;
      const rejectedAtEnd = progress.rejected;
      const open = reopen;
      batch = new PendingBatch();
      reopen = null;
      await inFlight;
      // The window before stopped between its parts: its checkpoint is the one to resume
      // from. Starting this window would overwrite it, and resuming would write the
      // earlier window's written parts again.
      if (interrupted) return;
      inFlight = this.writeWindow({
        key,
        file,
        batch: window,
        end: lastLine,
        rejected: rejectedAtEnd,
        open,
        partRows: opts.partRows ?? DEFAULT_PART_ROWS,
        before: { written: progress.written, duplicates: progress.duplicates },
        signal: opts.signal,
      }).then((result) => {
        if (!result) {
          interrupted = true;
          return;
        }
        progress.written += result.written;
        progress.duplicates += result.duplicates;
        opts.onProgress?.({ ...progress });
      });
      // Surface a failed write at once rather than after the next window is parsed.
      inFlight.catch(() => undefined);
    };

    try {
      for await (const line of lines) {
        lineNo++;
        progress.lines = lineNo;
        if (lineNo <= resumedFromLine) continue;
        if (line.trim() !== '') {
          const event = parseLine(line, lineNo);
          if ('reason' in event) {
            progress.rejected++;
            rejects.write(`${JSON.stringify(event)}\n`);
          } else {
            batch.add(event);
          }
        }
        const full = reopen ? lineNo >= reopen.end : batch.events >= opts.batchSize;
        if (full) {
          await flush(lineNo);
          if (opts.signal?.aborted) {
            interrupted = true;
            break;
          }
        }
      }
      if (!interrupted && (batch.events > 0 || lineNo > resumedFromLine)) await flush(lineNo);
      await inFlight;
    } finally {
      lines.close();
      raw.destroy();
      await new Promise<void>((resolve) => rejects.end(() => resolve()));
    }
    return {
      ...progress,
      thisRun: {
        written: progress.written - checkpoint.written,
        duplicates: progress.duplicates - checkpoint.duplicates,
        rejected: progress.rejected - checkpoint.rejected,
      },
      resumedFromLine,
      rejectFile,
      interrupted,
      seconds: (Date.now() - started) / 1000,
    };
  }

  /**
   * Writes one window in parts (keyed events, then groups of folded rows), each with
   * its checkpoint; returns the window's counts, or null if stopped between parts.
   */
  private async writeWindow(w: {
    key: string;
    file: string;
    batch: PendingBatch;
    end: number;
    rejected: number;
    open: OpenWindow | null;
    partRows: number;
    before: { written: number; duplicates: number };
    signal?: AbortSignal;
  }): Promise<{ written: number; duplicates: number } | null> {
    const partRows = w.open?.partRows ?? w.partRows;
    // Keyed events in line order, then folded rows by groups of accounts; always one part.
    const parts: ({ keyed: CleanEvent[] } | { ids: string[] })[] = [];
    for (let i = 0; i < w.batch.keyed.length; i += partRows) {
      parts.push({ keyed: w.batch.keyed.slice(i, i + partRows) });
    }
    for (const ids of w.batch.folded.partition(partRows)) parts.push({ ids });
    if (parts.length === 0) parts.push({ ids: [] });
    let written = w.open?.written ?? 0;
    let duplicates = w.open?.duplicates ?? 0;
    const unkeyed = w.batch.events - w.batch.keyed.length;
    const save = async (tx: ManagedTransaction, part: number, wr: number, dup: number) => {
      if (part === parts.length - 1) {
        await tx.run(query(this.cypher, 'ingest/save-import-checkpoint'), {
          key: w.key,
          file: w.file,
          line: w.end,
          events: w.before.written + wr + unkeyed,
          duplicates: w.before.duplicates + dup,
          rejected: w.rejected,
          now: Date.now(),
        });
      } else {
        await tx.run(query(this.cypher, 'ingest/save-import-window'), {
          key: w.key,
          file: w.file,
          end: w.end,
          parts: part + 1,
          partRows,
          written: wr,
          duplicates: dup,
          now: Date.now(),
        });
      }
    };
    for (let i = w.open?.parts ?? 0; i < parts.length; i++) {
      if (i > 0 && w.signal?.aborted) return null;
      const part = parts[i] as { keyed: CleanEvent[] } | { ids: string[] };
      if ('keyed' in part) {
        const r = await this.writer.write(part.keyed, (tx, r) =>
          save(tx, i, written + r.written, duplicates + r.duplicates),
        );
        written += r.written;
        duplicates += r.duplicates;
      } else {
        const rows = w.batch.folded.rows(part.ids);
        await this.writer.writeFolded(
          rows,
          (tx) => save(tx, i, written, duplicates),
          async (tx) => {
            const res = await tx.run(query(this.cypher, 'ingest/read-import-part-committed'), {
              key: w.key,
              end: w.end,
              part: i,
            });
            return res.records[0]?.get('done') === true;
          },
        );
      }
    }
    return { written: written + unkeyed, duplicates };
  }

  private async readCheckpoint(key: string): Promise<Checkpoint> {
    return this.db.read(async (tx) => {
      const res = await tx.run(query(this.cypher, 'ingest/read-import-checkpoint'), { key });
      const rec = res.records[0];
      if (!rec) return { line: 0, written: 0, duplicates: 0, rejected: 0, window: null };
      const n = (field: string) => {
        const v: unknown = rec.get(field);
        return v === null ? 0 : toNumber(v);
      };
      return {
        line: n('line'),
        written: n('events'),
        duplicates: n('duplicates'),
        rejected: n('rejected'),
        window:
          rec.get('windowEnd') === null
            ? null
            : {
                end: n('windowEnd'),
                parts: n('windowParts'),
                partRows: n('windowPartRows'),
                written: n('windowWritten'),
                duplicates: n('windowDuplicates'),
              },
      };
    });
  }
}

export type Rejected = {
  line: number;
  reason: string;
  issues?: { path: string; message: string }[];
};

/**
 * The file's lines (gunzipped for .gz), or those of bytes [start, end) of a plain file;
 * `onBytes` counts the file's own bytes read.
 */
export function openLines(
  file: string,
  onBytes: (n: number) => void,
  range: { start: number; end?: number } = { start: 0 },
) {
  const raw = createReadStream(file, {
    start: range.start,
    end: range.end === undefined ? undefined : range.end - 1,
  });
  raw.on('data', (chunk) => onBytes(chunk.length));
  const lines = createInterface({
    input: file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw,
    crlfDelay: Infinity,
  });
  return { raw, lines };
}

/** A line as a clean event, or why it was rejected (never the line itself). */
export function parseLine(line: string, lineNo: number): CleanEvent | Rejected {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (err) {
    // Not the parser's message: V8 quotes the text around the error, which may be a prompt.
    const at = /at position (\d+)/.exec((err as Error).message)?.[1];
    return {
      line: lineNo,
      reason: at === undefined ? 'invalid JSON' : `invalid JSON at position ${at}`,
    };
  }
  const result = cleanEvent(raw, lineNo);
  if (result.ok) return result.event;
  return {
    line: lineNo,
    reason: 'invalid event',
    issues: result.issues.map(({ path, message }) => ({ path, message })),
  };
}

/** Identity of an import: path, size and a hash of the first MiB (a rewritten file is a new import). */
export async function fileKey(file: string, size: number): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(Math.min(size, 1 << 20));
    await handle.read(head, 0, head.length, 0);
    return createHash('sha256').update(`${file}\u0000${size}\u0000`).update(head).digest('hex');
  } finally {
    await handle.close();
  }
}

/** On resume, drop reject entries past the checkpoint: those lines are read (and judged) again. */
function keepRejectsUpTo(rejectFile: string, line: number): void {
  if (!existsSync(rejectFile)) return;
  if (line === 0) {
    writeFileSync(rejectFile, '');
    return;
  }
  const kept = readFileSync(rejectFile, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && (JSON.parse(l) as Rejected).line <= line);
  writeFileSync(rejectFile, kept.map((l) => `${l}\n`).join(''));
}
