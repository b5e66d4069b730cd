/**
 * Bulk import of a JSON-lines file (optionally gzipped) through the same
 * validation and writer as POST /v1/events. Bad lines go to a reject file with
 * their line number and reason (never the line itself: it may hold a prompt).
 * Events are folded as they are read, a window of `batchSize` events at a time
 * (an account's requests across the window become one row per shared value), and
 * every window commits together with a checkpoint (last line covered) in Neo4j,
 * so an interrupted import resumes exactly where it stopped, counting nothing twice.
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
import type { Database } from '../platform/neo4j';
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
  batchSize: number;
  rejectFile?: string;
  /** Called once before the first write (counts so far, from the checkpoint), then after each window. */
  onProgress?: (p: ImportProgress) => void;
  /** Stops after the batch in flight; the checkpoint makes the next run resume. */
  signal?: AbortSignal;
}

export interface ImportSummary extends ImportProgress {
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
}

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
    const raw = createReadStream(file);
    raw.on('data', (chunk) => (progress.bytesRead += chunk.length));
    const lines = createInterface({
      input: file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw,
      crlfDelay: Infinity,
    });

    let batch = new PendingBatch();
    let inFlight: Promise<void> = Promise.resolve();
    let lineNo = 0;
    let interrupted = false;
    // One batch writes while the next one is parsed; writes stay in line order.
    const flush = async (lastLine: number) => {
      const events = batch;
      const rejectedSoFar = progress.rejected;
      batch = new PendingBatch();
      await inFlight;
      inFlight = this.writer
        .writeBatch(events, async (tx, result) => {
          await tx.run(query(this.cypher, 'ingest/save-import-checkpoint'), {
            key,
            file,
            line: lastLine,
            events: progress.written + result.written,
            duplicates: progress.duplicates + result.duplicates,
            rejected: rejectedSoFar,
            now: Date.now(),
          });
        })
        .then((result) => {
          progress.written += result.written;
          progress.duplicates += result.duplicates;
          opts.onProgress?.({ ...progress });
        });
      // Surface a failed write at once rather than after the next batch is parsed.
      inFlight.catch(() => undefined);
    };

    try {
      for await (const line of lines) {
        lineNo++;
        progress.lines = lineNo;
        if (lineNo <= resumedFromLine) continue;
        if (line.trim() === '') continue;
        const event = parseLine(line, lineNo);
        if ('reason' in event) {
          progress.rejected++;
          rejects.write(`${JSON.stringify(event)}\n`);
        } else {
          batch.add(event);
        }
        if (batch.events >= opts.batchSize) {
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
      resumedFromLine,
      rejectFile,
      interrupted,
      seconds: (Date.now() - started) / 1000,
    };
  }

  private async readCheckpoint(key: string): Promise<Checkpoint> {
    return this.db.read(async (tx) => {
      const res = await tx.run(query(this.cypher, 'ingest/read-import-checkpoint'), { key });
      const rec = res.records[0];
      if (!rec) return { line: 0, written: 0, duplicates: 0, rejected: 0 };
      return {
        line: toNumber(rec.get('line')),
        written: toNumber(rec.get('events')),
        duplicates: toNumber(rec.get('duplicates')),
        rejected: toNumber(rec.get('rejected')),
      };
    });
  }
}

type Rejected = { line: number; reason: string; issues?: { path: string; message: string }[] };

function parseLine(line: string, lineNo: number): CleanEvent | Rejected {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (err) {
    return { line: lineNo, reason: `invalid JSON: ${(err as Error).message}` };
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
async function fileKey(file: string, size: number): Promise<string> {
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
