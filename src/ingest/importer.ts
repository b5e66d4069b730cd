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
 * line and how far the committed parts of the next one got (keyed events in line order,
 * then the last account in id order); the fold is deterministic, so a resumed import
 * re-reads that window and writes only what is past that point, cut with its own part
 * size (lowered after a part ran out of Neo4j's transaction memory): nothing counted
 * twice, nothing skipped.
 *
 * A checkpoint belongs to the file's content, not its path (import-identity.ts): the
 * same bytes elsewhere resume or finish it, and a file that is an earlier import's
 * bytes plus appended lines starts from a copy of that import's checkpoint. A run reads
 * only the bytes it identified, through the last line break of a plain file, so lines
 * appended meanwhile, and a last line still being written, wait for the next run.
 */
import {
  accessSync,
  createReadStream,
  createWriteStream,
  closeSync,
  constants as fsConstants,
  copyFileSync,
  existsSync,
  fstatSync,
  openSync,
  readSync,
  statSync,
  truncateSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { type CypherMap, query } from '../platform/cypher';
import type { Database, ManagedTransaction } from '../platform/neo4j';
import { toNumber } from '../platform/neo4j';
import type { CleanEvent } from './event-schema';
import { isGzipFile } from './gzip-file';
import {
  type EarlierImport,
  type FileIdentity,
  identify,
  lastLineEnd,
  legacyFileKey,
  type Match,
  type MatchKind,
  matchEarlier,
  readHead,
} from './import-identity';
import { BLOCK_BYTES, BlockVerifier } from './block-digests';
import { ImportLocks } from './import-lock';
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
  /** how long the path's import lock outlives a holder that stops renewing it (default 60 s) */
  lockTtlMs?: number;
  file: string;
  /** events per window (folded together) */
  batchSize: number;
  /** most rows per transaction (default 50,000) */
  partRows?: number;
  rejectFile?: string;
  /**
   * Called once before the first write (counts so far, from the checkpoint), after each
   * window, and every 0.5 s while reading (bytes read move on through bad lines too; the
   * written counts are those committed, `rejected` the bad lines read so far).
   */
  onProgress?: (p: ImportProgress) => void;
  /** Stops after the part in flight; the checkpoint makes the next run resume. */
  signal?: AbortSignal;
  /** The server's clock, read once per window for the 24 h "ahead" check (default Date.now). */
  clock?: () => number;
  /** Bytes hashed so far: the file is read once to identify it before the import. */
  onHashing?: (bytes: number, totalBytes: number) => void;
  /**
   * Called once the file is identified, before anything is read or written: how it
   * matched earlier imports, and its warnings (said before the import, not after).
   */
  onMatch?: (m: MatchSummary & Pick<ImportSummary, 'resumedFromLine'>) => void;
  /**
   * A new import that overlaps an earlier one's content (it begins with that import's
   * bytes but cannot continue it, or with its first line) counts again the events without
   * an id that both hold: refused with ImportRefused unless this is true.
   */
  recount?: boolean;
  /** the longest line read (default MAX_LINE_BYTES): a longer one is rejected, unread */
  maxLineBytes?: number;
}

/** The earlier imports a run matched moved on while it hashed the file: run it again. */
export class ImportChanged extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportChanged';
  }
}

/** A new import that would count again events an earlier import counted, not asked for. */
export class ImportRefused extends Error {
  constructor(
    readonly file: string,
    /** the earlier import's file it overlaps */
    readonly earlierFile: string,
    /** how the two overlap */
    readonly reason: string,
  ) {
    super(
      `${reason}: importing it as a new import would count again the events without an id ` +
        `imported from ${earlierFile} before; nothing was written (to import it anyway, ` +
        'recount)',
    );
    this.name = 'ImportRefused';
  }
}

export interface ImportSummary extends ImportProgress {
  /**
   * Bytes after the file's last line break (an unfinished line), not read: left for the
   * next run, like bytes appended meanwhile (0 for .gz files, which are read to the end).
   */
  pendingBytes: number;
  /** What this process added; the other counts are the whole file's, checkpoint included. */
  thisRun: { written: number; duplicates: number; rejected: number };
  resumedFromLine: number;
  rejectFile: string;
  interrupted: boolean;
  seconds: number;
  /** the import's key: `sha256:` + the file's sha256 (absent if stopped while hashing) */
  key?: string;
  /** how the file relates to earlier imports (import-identity.ts; absent if stopped while hashing) */
  match?: MatchKind;
  /** the earlier import's file: the one it is or continues, or (new) the one it overlaps */
  matchedFile?: string;
  /** for stderr: events an earlier import counted that this one counts again, or why nothing was imported */
  warnings: string[];
  /**
   * `continued` only: whether the longer file's import that took these bytes over is
   * complete (every line of this file is in) or not (its lines past the stop are not).
   */
  continuedByComplete?: boolean;
}

/** What a summary says of the file's identity and earlier imports. */
export type MatchSummary = Pick<ImportSummary, 'key' | 'match' | 'matchedFile' | 'warnings'>;

interface Checkpoint {
  line: number;
  written: number;
  duplicates: number;
  rejected: number;
  window: OpenWindow | null;
}

/**
 * A window's counts: all its events (once complete), and those of the parts this process
 * wrote (a stopped window's too).
 */
interface WindowCounts {
  /** false: stopped between parts */
  complete: boolean;
  written: number;
  duplicates: number;
  mine: { written: number; duplicates: number };
}

/** A window whose first parts are committed and the rest not (yet). */
interface OpenWindow {
  end: number;
  /** parts committed, numbered on across resumes (read-import-part-committed) */
  parts: number;
  /** rows per part of the cut that committed the last of them */
  partRows: number;
  /**
   * How far the committed parts got: keyed events (in line order), then the last account
   * (in id order) whose folded rows are in. A resume cuts the rest with its own partRows
   * (after `query_memory_limit`, a lower IMPORT_PART_ROWS takes effect on the open
   * window too). null on checkpoints written before it was kept: there the committed
   * parts are found by cutting the window with `partRows` again.
   */
  keyed: number | null;
  account: string | null;
  written: number;
  duplicates: number;
  /**
   * The server time its lines were judged by (the 24 h "ahead of the clock" check): a
   * resume judges them by it again, so the window holds the same events. null on
   * checkpoints written before it was kept.
   */
  clock: number | null;
}

/** How far a window's committed parts got (OpenWindow.keyed and .account). */
export interface WindowPosition {
  keyed: number;
  account: string | null;
}

/** An earlier import's checkpoint: what matching needs and where it got to. */
interface Earlier extends EarlierImport {
  checkpoint: Checkpoint;
}

const DEFAULT_PART_ROWS = 50_000;
/**
 * A window also ends after this many lines per event it may hold (4 × batchSize): a long
 * run of bad or blank lines is checkpointed as it is read, so a stop does not send the
 * next run back to its start. Windows stay keyed by their last line, so this is as
 * deterministic as the event count.
 */
const WINDOW_LINES_PER_EVENT = 4;
const PROGRESS_MS = 500;
const LF = 0x0a;
const NONE: Checkpoint = { line: 0, written: 0, duplicates: 0, rejected: 0, window: null };

export class Importer {
  constructor(
    private readonly db: Database,
    private readonly cypher: CypherMap,
    private readonly writer: EventWriter,
  ) {}

  /**
   * Imports the file, holding its path's import lock throughout (import-lock.ts): a
   * second import of the same path meanwhile is refused (ImportLocked) before it reads
   * anything. A run whose lock was lost (expired and taken) stops as if interrupted and
   * throws.
   */
  async run(opts: ImportOptions): Promise<ImportSummary> {
    const file = path.resolve(opts.file);
    checkRejectFile(file, opts.rejectFile);
    const locks = new ImportLocks(this.db, this.cypher, opts.lockTtlMs);
    await locks.take(file);
    const signal = opts.signal ? AbortSignal.any([opts.signal, locks.lost]) : locks.lost;
    try {
      const summary = await this.runLocked({ ...opts, signal }, file, locks);
      // Lost after the import completed: nothing was stopped.
      if (locks.lost.aborted && summary.interrupted) throw locks.lost.reason;
      return summary;
    } finally {
      await locks.release(); // a lock not released expires on its own
    }
  }

  private async runLocked(
    opts: ImportOptions,
    file: string,
    locks: ImportLocks,
  ): Promise<ImportSummary> {
    const started = Date.now();
    const before = statSync(file);
    const fileBytes = before.size;
    // A plain file is read and identified through its last line break: a line still being
    // written is left for the next run (then this run's bytes begin that file and end a line).
    const gz = isGzipFile(file);
    const totalBytes = gz ? fileBytes : await lastLineEnd(file, fileBytes);
    const pendingBytes = fileBytes - totalBytes;
    const rejectFile = opts.rejectFile ?? `${file}.rejects.jsonl`;
    const identified = await this.identify(file, totalBytes, fileBytes, opts).catch(
      (err: unknown) => {
        if (opts.signal?.aborted) return null;
        throw err;
      },
    );
    if (identified === null) {
      return { ...stoppedWhileHashing(totalBytes, rejectFile, started), pendingBytes };
    }
    const { identity, match, blocks } = identified;
    const key = identity.key;
    const about: MatchSummary = {
      key,
      match: match.kind,
      ...(match.earlier?.file ? { matchedFile: match.earlier.file } : {}),
      warnings: match.warnings,
    };
    // Decided before anything is read or written: a refused import leaves no trace.
    if (match.overlap && !opts.recount) {
      throw new ImportRefused(file, match.overlap.file, match.overlap.reason);
    }
    const from = match.kind === 'new' ? 0 : ((match.earlier as Earlier | undefined)?.line ?? 0);
    if (match.kind === 'continued' || (match.kind === 'same' && match.earlier?.complete)) {
      // Nothing to read: these bytes are in, or a longer file is finishing them.
      opts.onMatch?.({ ...about, resumedFromLine: from });
      const earlier = match.earlier as Earlier;
      return {
        ...this.unread(earlier, { totalBytes, rejectFile, started }, opts),
        pendingBytes,
        ...about,
        ...(match.kind === 'continued'
          ? { continuedByComplete: earlier.continuedByComplete === true }
          : {}),
      };
    }
    // The bytes' lock, and the continued import's: the same bytes under another path
    // (a copy, a symlink, the log mounted on another host) are not imported at once.
    await locks.take(key, `these bytes (${key})`);
    const base = continuedKey(match);
    if (base !== null) await locks.take(base, `the import this file continues (${base})`);
    // Every lock is checked in the transaction that picks the checkpoint up, before the
    // reject file is touched: a run paused past the lock's expiry while hashing (Ctrl-Z)
    // must neither reset a checkpoint nor cut a reject file another import now writes.
    const checkpoint = await this.startFrom(identity, match, locks);
    const resumedFromLine = checkpoint.line;
    const head = rejectFileHead(rejectFile);
    // A new import keeps another import's entries beside it (yesterday's log at this
    // path), not cut to its own; its own (a run stopped before its first commit, which
    // records the import) are judged again and cut below. Any import, resumed too, keeps
    // a file that does not begin with reject entries (an input named by mistake): cutting
    // it to this import's entries would empty it.
    const foreign =
      head.kind === 'other' ||
      (match.kind === 'new' && head.kind === 'entry' && head.import !== key);
    const aside = foreign ? setRejectsAside(rejectFile, started) : null;
    if (aside) {
      const what =
        head.kind === 'other'
          ? `${rejectFile} did not begin with reject entries: what it held`
          : `the reject entries of the earlier import to ${rejectFile}`;
      about.warnings = [...about.warnings, `${what} is now in ${aside}`];
    }
    opts.onMatch?.({ ...about, resumedFromLine: from });
    await keepRejectsUpTo(rejectFile, resumedFromLine);
    const rejects = createWriteStream(rejectFile, { flags: 'a' });
    // A reject file that cannot be written fails the import (below), not the process.
    let rejectsError: Error | null = null;
    rejects.on('error', (err) => (rejectsError ??= err));
    // Opened before the first line: a path that cannot be written is said now, not once a
    // line is bad (or never, when none is).
    await new Promise<void>((resolve, reject) => {
      rejects.once('open', () => resolve());
      rejects.once('error', (cause: Error) =>
        reject(
          new Error(`cannot write the reject file ${rejectFile}: ${cause.message}`, { cause }),
        ),
      );
    });
    // Settles once every reject so far is handed to the OS (rejected on a write error):
    // a window's checkpoint commits only after it, so a process killed later loses no
    // reason for a line the checkpoint counts.
    let rejectsWritten: Promise<void> = Promise.resolve();
    const writeReject = (entry: Rejected) => {
      const line = `${JSON.stringify({ ...entry, import: key })}\n`;
      rejectsWritten = new Promise<void>((resolve, reject) =>
        rejects.write(line, (err) => {
          const cause = rejectsError ?? err;
          if (!cause) return resolve();
          reject(
            new Error(`cannot write the reject file ${rejectFile}: ${cause.message}`, { cause }),
          );
        }),
      );
      rejectsWritten.catch(() => undefined);
    };

    const progress: ImportProgress = {
      bytesRead: 0,
      totalBytes,
      lines: 0,
      written: checkpoint.written,
      duplicates: checkpoint.duplicates,
      rejected: checkpoint.rejected,
    };
    // What this process's own parts wrote (a resumed window's earlier parts are not), and
    // the rejected lines of the windows it committed.
    const thisRun = { written: 0, duplicates: 0, rejected: 0 };
    // A first report before anything is written: the counts a resumed import starts from.
    opts.onProgress?.({ ...progress });
    const { raw, lines, close, endsWithNewline } = openLines(
      file,
      (n) => (progress.bytesRead += n),
      // The bytes identified, not any appended since (they belong to a longer file).
      gz && totalBytes === 0 ? undefined : { start: 0, end: totalBytes },
      { maxLineBytes: opts.maxLineBytes, gz },
    );
    // What is read must be what was identified: the file the path named when the run
    // began, not cut short since (both checked before the first line is used), with the
    // same bytes: every block checked as it is read, before a window with its lines is
    // written (a log cut short and refilled keeps its inode), and the whole at the end.
    let opened: { dev: number; ino: number; size: number } | null = null;
    let fd: number | null = null;
    raw.once('open', (n: number) => {
      fd = n;
      opened = fstatSync(n);
    });
    // Not ours to read once the stream has ended: it closes the descriptor next (and a
    // .gz's raw stream ends while the lines of its last chunks are still to come).
    raw.once('end', () => (fd = null));
    raw.once('close', () => (fd = null));
    const readHash = createHash('sha256');
    const verifier = new BlockVerifier(blocks, totalBytes);
    raw.on('data', (chunk: Buffer) => {
      readHash.update(chunk);
      verifier.update(chunk);
    });
    const unidentified = () =>
      changedMessage(
        file,
        `its bytes from byte ${verifier.changedAt ?? verifier.verified} on are not those identified`,
      );

    let batch = new PendingBatch();
    let inFlight: Promise<void> = Promise.resolve();
    let writeFailed: { err: unknown } | null = null;
    let lineNo = 0;
    let interrupted = false;
    // The last line of the window before the one being read.
    let windowFrom = resumedFromLine;
    // The first window of a resumed import is the one its checkpoint left open.
    let reopen = checkpoint.window;
    // One clock per window (the open one's as it was first read): whether a line is too
    // far ahead of it must not change between a window's run and its resume.
    const readClock = opts.clock ?? Date.now;
    let clock = reopen?.clock ?? readClock();
    // Rejected lines of windows not yet flushed: they count for this process once their
    // window commits (a stopped window's are judged again by the resume).
    let rejectedAtFlush = progress.rejected;
    // Rejected lines as far as the last committed window: what a stopped run reports
    // (the lines past it are judged again, and counted, by the resume).
    let rejectedCommitted = progress.rejected;
    // One window writes while the next one is parsed; writes stay in line order.
    const flush = async (lastLine: number) => {
      // Its lines came from the bytes read so far: each must be identified before it is written.
      if (!verifier.check(fd)) throw new Error(unidentified());
      const window = batch;
      const windowClock = clock;
      clock = readClock();
      const rejectedAtEnd = progress.rejected;
      const windowRejected = rejectedAtEnd - rejectedAtFlush;
      rejectedAtFlush = rejectedAtEnd;
      const rejectsUpToHere = rejectsWritten;
      const open = reopen;
      batch = new PendingBatch();
      reopen = null;
      windowFrom = lastLine;
      await inFlight;
      await rejectsUpToHere;
      // The window before stopped between its parts: its checkpoint is the one to resume
      // from. Starting this window would overwrite it, and resuming would write the
      // earlier window's written parts again. (A stop that came while this one waited
      // still lets it write its first part: writeWindow stops between parts.)
      if (interrupted) return;
      inFlight = this.writeWindow({
        identity,
        batch: window,
        end: lastLine,
        clock: windowClock,
        rejected: rejectedAtEnd,
        open,
        partRows: opts.partRows ?? DEFAULT_PART_ROWS,
        before: { written: progress.written, duplicates: progress.duplicates },
        signal: opts.signal,
        locks,
      }).then((result) => {
        thisRun.written += result.mine.written;
        thisRun.duplicates += result.mine.duplicates;
        if (!result.complete) {
          interrupted = true;
          return;
        }
        thisRun.rejected += windowRejected;
        rejectedCommitted = rejectedAtEnd;
        progress.written += result.written;
        progress.duplicates += result.duplicates;
        opts.onProgress?.({ ...progress });
      });
      // A failed write stops the reading at its next line (below), not once the next
      // window is parsed and waits for it; the rejection is handled here meanwhile.
      inFlight.catch((err: unknown) => (writeFailed ??= { err }));
    };

    // Then as the file is read, not only per window: a stretch of bad lines (no window
    // fills) or one over-long line still moves the bar.
    const ticker = setInterval(() => opts.onProgress?.({ ...progress }), PROGRESS_MS);
    ticker.unref();
    try {
      for await (const line of lines) {
        // The window being written failed: no point reading (and judging) more lines.
        if (writeFailed !== null) throw (writeFailed as { err: unknown }).err;
        // Stopped: the window being read is dropped (a resume reads it again), the one
        // being written stops after its part in flight (awaited below).
        if (opts.signal?.aborted) {
          interrupted = true;
          break;
        }
        if (lineNo === 0) {
          const at = opened as { dev: number; ino: number; size: number } | null;
          if (at !== null && (at.dev !== before.dev || at.ino !== before.ino))
            throw new Error(changedMessage(file, 'another file is now at its path'));
          if (at !== null && at.size < totalBytes) {
            throw new Error(
              changedMessage(file, `cut short: ${at.size} of the ${totalBytes} bytes identified`),
            );
          }
        }
        // Bytes other than those identified: nothing from here on is written.
        if (verifier.changedAt !== null) throw new Error(unidentified());
        lineNo++;
        progress.lines = lineNo;
        if (lineNo <= resumedFromLine) continue;
        if (typeof line !== 'string' || line.trim() !== '') {
          const event = parseLine(line, lineNo, clock);
          if ('reason' in event) {
            progress.rejected++;
            writeReject(event);
          } else {
            batch.add(event);
          }
        }
        const full = reopen
          ? lineNo >= reopen.end
          : batch.events >= opts.batchSize ||
            lineNo - windowFrom >= WINDOW_LINES_PER_EVENT * opts.batchSize;
        if (full) {
          await flush(lineNo);
          if (opts.signal?.aborted) {
            interrupted = true;
            break;
          }
        }
      }
      // Before the last window: a file cut short ends in part of a line, which must not be
      // checkpointed as read (the rotated copy resumes after the last window written). A
      // window that ends in the part of a block a short read gave fails its flush's check.
      const changed = interrupted
        ? null
        : (changedWhileRead(file, before, progress.bytesRead, totalBytes) ??
          (verifier.check(fd) ? null : unidentified()) ??
          (`sha256:${readHash.digest('hex')}` === key
            ? null
            : changedMessage(file, 'its bytes are not those identified')));
      if (changed !== null) {
        await inFlight; // the windows before it stay written, and checkpointed
        throw new Error(changed);
      }
      if (!interrupted && (batch.events > 0 || lineNo > resumedFromLine)) await flush(lineNo);
      await inFlight;
      if (!interrupted) await this.markComplete(key, endsWithNewline(), locks);
      else progress.rejected = rejectedCommitted;
    } catch (err) {
      // A read error (a .gz cut short, the file gone): the window being written finishes
      // (with its checkpoint) before the error is thrown, so no write outlives the run.
      await inFlight.catch(() => undefined);
      throw err;
    } finally {
      clearInterval(ticker);
      close();
      await new Promise<void>((resolve) => rejects.end(() => resolve()));
    }
    return {
      ...progress,
      thisRun,
      resumedFromLine,
      rejectFile,
      interrupted,
      seconds: (Date.now() - started) / 1000,
      pendingBytes,
      ...about,
    };
  }

  /**
   * Hashes the file (and its prefixes as long as earlier imports that may be one) and
   * finds which earlier import it is, continues or replaces.
   */
  private async identify(
    file: string,
    size: number,
    fileBytes: number,
    opts: Pick<ImportOptions, 'onHashing' | 'signal' | 'recount'>,
  ): Promise<{ identity: FileIdentity; match: Match<Earlier>; blocks: Buffer }> {
    const head = await readHead(file);
    // Checkpoints from before content keys were keyed by the whole file.
    const legacyKey = await legacyFileKey(file, fileBytes);
    const earlier = await this.readEarlier({ head, file, legacyKey });
    let hashed = 0;
    const { identity, prefixes, blocks } = await identify(
      file,
      size,
      head,
      earlier.flatMap((e) => (e.size === null ? [] : [e.size])),
      { onBytes: (n) => opts.onHashing?.((hashed += n), size), signal: opts.signal },
    );
    return {
      identity,
      match: matchEarlier(identity, legacyKey, earlier, prefixes, { recount: opts.recount }),
      blocks,
    };
  }

  /**
   * The checkpoint this run starts from: the same content's, a copy of the one it
   * continues, or none; in a transaction that fails unless the run still holds its locks.
   */
  private async startFrom(
    identity: FileIdentity,
    match: Match<Earlier>,
    locks: ImportLocks,
  ): Promise<Checkpoint> {
    return this.db.write(async (tx) => {
      await locks.assertHeld(tx);
      if (!match.restart) await this.assertUnchanged(tx, identity, match);
      if (match.kind === 'same') return (match.earlier as Earlier).checkpoint;
      if (match.restart) {
        // Recounting these bytes: their own checkpoint starts again, or the windows it
        // already covers would be skipped as committed (read-import-part-committed).
        const restarted = await tx.run(query(this.cypher, 'ingest/restart-import-checkpoint'), {
          ...identityParams(identity),
          now: Date.now(),
        });
        if (restarted.records.length === 0) {
          throw new ImportChanged(
            `the longer file's import that continued ${identity.file} finished while it was ` +
              'being identified: every line of it is in, nothing was written or counted again',
          );
        }
        return NONE;
      }
      const base = continuedKey(match);
      if (base === null) return NONE;
      const res = await tx.run(query(this.cypher, 'ingest/continue-import-checkpoint'), {
        ...identityParams(identity),
        base,
        now: Date.now(),
      });
      const rec = res.records[0];
      if (!rec) throw new Error(`the checkpoint ${base} to continue is gone`);
      return checkpointOf(rec);
    });
  }

  /**
   * Refuses (nothing written) when the checkpoints this run matched, read before it hashed
   * the file and took their locks, have moved since: another import of these bytes, or
   * of a longer file that continued them, ran meanwhile. Resuming from the old state
   * would write lines again (found by review, 12-04).
   */
  private async assertUnchanged(
    tx: ManagedTransaction,
    identity: FileIdentity,
    match: Match<Earlier>,
  ): Promise<void> {
    const earlier = match.earlier as Earlier | undefined;
    // The key's own checkpoint is the earlier one for `same`, absent otherwise; a base
    // (appended, legacy) is the earlier one.
    const expected = new Map<string, Earlier | null>([
      [identity.key, match.kind === 'same' ? (earlier ?? null) : null],
    ]);
    if (continuedKey(match) !== null && earlier) expected.set(earlier.key, earlier);
    const res = await tx.run(query(this.cypher, 'ingest/read-import-checkpoint-states'), {
      keys: [...expected.keys()],
    });
    const at = (c: Checkpoint, e: Earlier) =>
      c.line === e.checkpoint.line &&
      c.window?.end === e.checkpoint.window?.end &&
      c.window?.parts === e.checkpoint.window?.parts;
    // The driver re-running this transaction after its commit's answer was lost finds the
    // copy it made, and the base marked as continued by it: this run's own state, not
    // another import's (review, 12-05). The locks rule out a concurrent run.
    const base = continuedKey(match);
    const rows = new Map(res.records.map((r) => [r.get('key') as string, r]));
    const own = rows.get(identity.key);
    const rerun =
      base !== null &&
      earlier !== undefined &&
      own?.get('found') === true &&
      own.get('continues') === base &&
      own.get('complete') === false &&
      at(checkpointOf(own), earlier) &&
      rows.get(base)?.get('continuedBy') === identity.key;
    for (const rec of res.records) {
      const key = rec.get('key') as string;
      const was = expected.get(key) ?? null;
      const same =
        was === null
          ? rec.get('found') === false || (rerun && key === identity.key)
          : rec.get('found') === true &&
            at(checkpointOf(rec), was) &&
            rec.get('complete') === was.complete &&
            (rec.get('continuedBy') === was.continuedBy || (rerun && key === base));
      if (!same) {
        throw new ImportChanged(
          `another import of these bytes (or of a longer file that continues them) ran while ` +
            `${identity.file} was being identified: nothing was written; run the import again`,
        );
      }
    }
  }

  /** The summary of a run with nothing to read (the checkpoint's counts, nothing added). */
  private unread(
    earlier: Earlier,
    {
      totalBytes,
      rejectFile,
      started,
    }: { totalBytes: number; rejectFile: string; started: number },
    opts: ImportOptions,
  ): Omit<ImportSummary, keyof MatchSummary | 'pendingBytes'> {
    const cp = earlier.checkpoint;
    const progress: ImportProgress = {
      bytesRead: totalBytes,
      totalBytes,
      lines: cp.line,
      written: cp.written,
      duplicates: cp.duplicates,
      rejected: cp.rejected,
    };
    opts.onProgress?.({ ...progress });
    return {
      ...progress,
      thisRun: { written: 0, duplicates: 0, rejected: 0 },
      resumedFromLine: cp.line,
      rejectFile,
      interrupted: false,
      seconds: (Date.now() - started) / 1000,
    };
  }

  private async markComplete(
    key: string,
    endsWithNewline: boolean,
    locks: ImportLocks,
  ): Promise<void> {
    await this.db.write(async (tx) => {
      await locks.assertHeld(tx);
      await tx.run(query(this.cypher, 'ingest/mark-import-complete'), {
        key,
        endsWithNewline,
        now: Date.now(),
      });
    });
  }

  /**
   * Writes one window in parts (keyed events, then groups of folded rows), each with
   * its checkpoint; returns the window's counts, or null if stopped between parts. A
   * resumed window writes what its committed parts left, cut with this run's partRows.
   */
  private async writeWindow(w: {
    identity: FileIdentity;
    batch: PendingBatch;
    end: number;
    clock: number;
    rejected: number;
    open: OpenWindow | null;
    partRows: number;
    before: { written: number; duplicates: number };
    signal?: AbortSignal;
    locks: ImportLocks;
  }): Promise<WindowCounts> {
    const { partRows } = w;
    const keyed = w.batch.keyed;
    const from = w.open ? committedPosition(w.open, w.batch) : { keyed: 0, account: null };
    // Keyed events in line order, then folded rows by groups of accounts in id order
    // (those past the committed ones); always one part. Each says how far it gets.
    const parts: (({ keyed: CleanEvent[] } | { ids: string[] }) & { to: WindowPosition })[] = [];
    for (let i = from.keyed; i < keyed.length; i += partRows) {
      const to = Math.min(i + partRows, keyed.length);
      parts.push({ keyed: keyed.slice(i, to), to: { keyed: to, account: null } });
    }
    for (const group of w.batch.folded.partition(partRows)) {
      const ids =
        from.account === null ? group : group.filter((id) => id > (from.account as string));
      if (ids.length === 0) continue;
      parts.push({ ids, to: { keyed: keyed.length, account: ids[ids.length - 1] as string } });
    }
    if (parts.length === 0) parts.push({ ids: [], to: { keyed: keyed.length, account: null } });
    // Parts are numbered on from those committed before (read-import-part-committed).
    const first = w.open?.parts ?? 0;
    const last = first + parts.length - 1;
    let written = w.open?.written ?? 0;
    let duplicates = w.open?.duplicates ?? 0;
    // What this process's parts wrote: a resumed window's earlier parts are not its own.
    const mine = { written: 0, duplicates: 0 };
    const unkeyed = w.batch.events - w.batch.keyed.length;
    const save = async (
      tx: ManagedTransaction,
      part: number,
      to: WindowPosition,
      wr: number,
      dup: number,
    ) => {
      await w.locks.assertHeld(tx);
      if (part === last) {
        await tx.run(query(this.cypher, 'ingest/save-import-checkpoint'), {
          ...identityParams(w.identity),
          line: w.end,
          events: w.before.written + wr + unkeyed,
          duplicates: w.before.duplicates + dup,
          rejected: w.rejected,
          now: Date.now(),
        });
      } else {
        await tx.run(query(this.cypher, 'ingest/save-import-window'), {
          ...identityParams(w.identity),
          end: w.end,
          parts: part + 1,
          partRows,
          keyed: to.keyed,
          account: to.account,
          written: wr,
          duplicates: dup,
          clock: w.clock,
          now: Date.now(),
        });
      }
    };
    for (let i = 0; i < parts.length; i++) {
      const n = first + i;
      if (n > 0 && w.signal?.aborted) return { complete: false, written, duplicates, mine };
      const part = parts[i] as (typeof parts)[number];
      if ('keyed' in part) {
        const r = await this.writer.write(part.keyed, (tx, r) =>
          save(tx, n, part.to, written + r.written, duplicates + r.duplicates),
        );
        written += r.written;
        duplicates += r.duplicates;
        mine.written += r.written;
        mine.duplicates += r.duplicates;
      } else {
        const rows = w.batch.folded.rows(part.ids);
        await this.writer.writeFolded(
          rows,
          (tx) => save(tx, n, part.to, written, duplicates),
          async (tx) => {
            const res = await tx.run(query(this.cypher, 'ingest/read-import-part-committed'), {
              key: w.identity.key,
              end: w.end,
              part: n,
            });
            return res.records[0]?.get('done') === true;
          },
        );
        mine.written += w.batch.folded.eventsOf(part.ids);
      }
    }
    return { complete: true, written: written + unkeyed, duplicates, mine };
  }

  private async readEarlier(params: {
    head: string;
    file: string;
    legacyKey: string;
  }): Promise<Earlier[]> {
    // In a write session, which a cluster serves on its leader: a follower may not have
    // the last import's checkpoint yet, and continuing an older one writes lines twice.
    return this.db.write(async (tx) => {
      const res = await tx.run(query(this.cypher, 'ingest/read-import-candidates'), params);
      return res.records.map((rec) => {
        const checkpoint = checkpointOf(rec);
        const size: unknown = rec.get('size');
        return {
          key: rec.get('key') as string,
          file: rec.get('file') as string | null,
          size: size === null ? null : toNumber(size),
          complete: rec.get('complete') === true,
          endsWithNewline: rec.get('endsWithNewline') as boolean | null,
          continuedBy: rec.get('continuedBy') as string | null,
          line: checkpoint.line,
          head: rec.get('head') as string | null,
          continuedByComplete: rec.get('continuedByComplete') as boolean | null,
          checkpoint,
        };
      });
    });
  }
}

/** The key of the earlier import this run continues (appended, legacy), or null. */
function continuedKey(match: Match<Earlier>): string | null {
  return match.kind === 'appended' || match.kind === 'legacy'
    ? (match.earlier as Earlier).key
    : null;
}

/** A checkpoint's counts and open window from a record of its properties. */
function checkpointOf(rec: { get(field: string): unknown }): Checkpoint {
  const n = (field: string) => {
    const v = rec.get(field);
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
            keyed: rec.get('windowKeyed') === null ? null : n('windowKeyed'),
            account: rec.get('windowAccount') as string | null,
            written: n('windowWritten'),
            duplicates: n('windowDuplicates'),
            clock: rec.get('windowClock') === null ? null : n('windowClock'),
          },
  };
}

/**
 * How far an open window's committed parts got. A checkpoint from before this was kept
 * says only how many parts of a cut by its `partRows` are in: that cut is made again.
 */
export function committedPosition(
  open: Pick<OpenWindow, 'keyed' | 'account' | 'parts' | 'partRows'>,
  batch: PendingBatch,
): WindowPosition {
  if (open.keyed !== null) return { keyed: open.keyed, account: open.account };
  const rows = Math.max(1, open.partRows);
  const keyedParts = Math.ceil(batch.keyed.length / rows);
  if (open.parts <= keyedParts) {
    return { keyed: Math.min(open.parts * rows, batch.keyed.length), account: null };
  }
  const done = batch.folded.partition(rows).slice(0, open.parts - keyedParts);
  return { keyed: batch.keyed.length, account: done.flat().at(-1) ?? null };
}

/**
 * Records a file imported whole in one go (the first load) as a finished import: the
 * same bytes imported later add nothing, and the file with lines appended continues it.
 */
export async function recordImported(
  tx: ManagedTransaction,
  cypher: CypherMap,
  identity: FileIdentity,
  done: { lines: number; written: number; duplicates: number; rejected: number },
  endsWithNewline: boolean,
): Promise<void> {
  await tx.run(query(cypher, 'ingest/save-import-checkpoint'), {
    ...identityParams(identity),
    line: done.lines,
    events: done.written,
    duplicates: done.duplicates,
    rejected: done.rejected,
    now: Date.now(),
  });
  await tx.run(query(cypher, 'ingest/mark-import-complete'), {
    key: identity.key,
    endsWithNewline,
    now: Date.now(),
  });
}

/**
 * Why a file must not be called imported in full, or null: it changed under the import,
 * rotated by rename (another file at the path now) or cut short in place (copy-then-
 * truncate: fewer bytes read than were identified). What was written stays, under the
 * checkpoint of the last window written: importing the rotated copy resumes from there.
 */
function changedWhileRead(
  file: string,
  before: { dev: number; ino: number },
  bytesRead: number,
  identifiedBytes: number,
): string | null {
  let now: { dev: number; ino: number } | null;
  try {
    now = statSync(file);
  } catch {
    now = null; // moved away, nothing in its place
  }
  const replaced = now === null || now.dev !== before.dev || now.ino !== before.ino;
  if (!replaced && bytesRead === identifiedBytes) return null;
  return changedMessage(
    file,
    replaced ? 'another file is now at its path' : `${bytesRead} of ${identifiedBytes} bytes read`,
  );
}

function changedMessage(file: string, what: string): string {
  return (
    `${file} changed while it was imported (${what}): it is not marked imported in full; ` +
    'import the rotated copy (or the file) again to resume after the last window written'
  );
}

/** Stopped before the file was identified: nothing read, nothing written. */
function stoppedWhileHashing(
  totalBytes: number,
  rejectFile: string,
  started: number,
): Omit<ImportSummary, 'pendingBytes'> {
  const none = { written: 0, duplicates: 0, rejected: 0 };
  return {
    ...none,
    bytesRead: 0,
    totalBytes,
    lines: 0,
    thisRun: none,
    resumedFromLine: 0,
    rejectFile,
    interrupted: true,
    seconds: (Date.now() - started) / 1000,
    warnings: [],
  };
}

/** What every checkpoint write records of the file: its key, path, size and first-line hash. */
export function identityParams(id: FileIdentity) {
  return { key: id.key, file: id.file, size: id.size, head: id.head };
}

export type Rejected = {
  line: number;
  reason: string;
  issues?: { path: string; message: string }[];
};

/**
 * The longest line read: a longer one is rejected (`line of N bytes, longer than …`)
 * without its bytes being kept, and reading goes on after it. Far above any valid event
 * (the longest, a 1,000,000-character prompt written as \\u escapes, is about 6 MB) and
 * above the largest REST body by default (INGEST_MAX_BODY_BYTES, 10 MiB); it bounds the
 * memory a file that is not JSON lines takes (a JSON array on one line, gigabytes long,
 * ended in an uncaught `RangeError: Invalid string length`).
 */
export const MAX_LINE_BYTES = 16 * 2 ** 20;

/** A line longer than the longest read: how long it was, and that limit. */
export interface OverlongLine {
  overlong: number;
  max: number;
}

const CR = 0x0d;

/**
 * The file's lines (gunzipped for gzip), or those of bytes [start, end) of a plain file
 * (or of the compressed bytes of a .gz, from 0); `onBytes` counts the file's own bytes
 * read; `endsWithNewline()`, once read, whether the (decoded) text ended a line. A line
 * ends at LF, CRLF or a lone CR (as readline's did); one longer than `maxLineBytes` comes
 * as an OverlongLine, its bytes skipped. A read error (the file gone or unreadable, a gzip
 * stream cut short or corrupt) is thrown into the loop over `lines`, naming the file and
 * the line it came after; `close()` stops reading.
 */
export function openLines(
  file: string,
  onBytes: (n: number) => void,
  range: { start: number; end?: number } = { start: 0 },
  {
    maxLineBytes = MAX_LINE_BYTES,
    gz = isGzipFile(file),
  }: {
    maxLineBytes?: number;
    /** gzip, as the caller found it when it began (the file may be gone by now) */
    gz?: boolean;
  } = {},
) {
  const raw: Readable =
    range.end !== undefined && range.end <= range.start
      ? Readable.from([])
      : createReadStream(file, {
          start: range.start,
          end: range.end === undefined ? undefined : range.end - 1,
          // a chunk per block: each completes one, so the lines read were checked
          highWaterMark: BLOCK_BYTES,
        });
  let bytesRead = 0;
  raw.on('data', (chunk: Buffer) => {
    bytesRead += chunk.length;
    onBytes(chunk.length);
  });
  // pipeline, not pipe: the file's own errors (gone, EIO) reach the gunzip stream, which
  // the loop reads; with pipe they were an 'error' event nobody listened to (a crash).
  const gunzip = gz ? createGunzip() : undefined;
  const input: Readable = gunzip ? pipeline(raw, gunzip, () => undefined) : raw;
  let last: number | undefined;
  let lineNo = 0;
  // A UTF-8 byte-order mark that begins the text (files saved by some Windows tools) is
  // not part of the first line: JSON.parse would reject it.
  const withoutBom = (text: string) =>
    range.start === 0 && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  async function* read(): AsyncGenerator<string | OverlongLine> {
    // The line being read: its bytes in earlier chunks (none kept once it is too long).
    let parts: Buffer[] = [];
    let length = 0;
    let afterCR = false; // the last chunk ended with CR: an LF first in the next is its CRLF
    const add = (bytes: Buffer) => {
      if (length + bytes.length <= maxLineBytes) parts.push(bytes);
      else parts = [];
      length += bytes.length;
    };
    const line = (): string | OverlongLine => {
      lineNo++;
      const text: string | OverlongLine =
        length > maxLineBytes
          ? { overlong: length, max: maxLineBytes }
          : (parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, length)).toString(
              'utf8',
            );
      parts = [];
      length = 0;
      return lineNo === 1 && typeof text === 'string' ? withoutBom(text) : text;
    };
    try {
      for await (const chunk of input as AsyncIterable<Buffer>) {
        if (chunk.length === 0) continue;
        last = chunk[chunk.length - 1];
        let from = 0;
        if (afterCR) {
          afterCR = false;
          if (chunk[0] === LF) from = 1;
        }
        let lf = -1;
        let cr = -1;
        while (from < chunk.length) {
          if (lf !== -2 && lf < from) lf = chunk.indexOf(LF, from);
          if (cr !== -2 && cr < from) cr = chunk.indexOf(CR, from);
          if (lf === -1) lf = -2; // none left in this chunk: not looked for again
          if (cr === -1) cr = -2;
          const end = lf < 0 ? cr : cr < 0 ? lf : Math.min(lf, cr);
          if (end < 0) {
            add(chunk.subarray(from));
            break;
          }
          if (length === 0 && end - from <= maxLineBytes) {
            lineNo++; // the common case: a whole line in this chunk
            yield lineNo === 1
              ? withoutBom(chunk.toString('utf8', from, end))
              : chunk.toString('utf8', from, end);
          } else {
            add(chunk.subarray(from, end));
            yield line();
          }
          from = end + 1;
          if (chunk[end] === CR) {
            if (from === chunk.length) afterCR = true;
            else if (chunk[from] === LF) from++;
          }
        }
      }
      if (gunzip) nothingAfterGzip(file, gunzip.bytesWritten, range.end);
    } catch (err) {
      throw readError(file, { gz, start: range.start, lineNo, bytesRead }, err);
    }
    // A last line without a line break.
    if (length > 0) yield line();
  }
  const close = () => {
    raw.destroy();
    input.destroy();
  };
  // An empty text ends no line, but nothing appended to it can continue one either. A
  // lone CR at the end ended the last line (an LF appended after it makes a CRLF of it).
  return {
    raw,
    lines: read(),
    close,
    endsWithNewline: () => last === undefined || last === LF || last === CR,
  };
}

/**
 * Node's gunzip ends at a member followed by a zero byte and drops the rest of the file
 * without an error (review, 12-07: 1,000 of 3,000 lines read, and the import marked
 * complete). Bytes after the last member, zeros or not, are refused, as `gzip -t` refuses
 * them (exit 2, "trailing garbage"); `end` is the compressed size when the caller knows it.
 */
function nothingAfterGzip(file: string, consumed: number, end?: number): void {
  const size = end ?? statSync(file).size;
  if (consumed < size)
    throw new Error(
      `${size - consumed} bytes after the end of its gzip data, at byte ${consumed} ` +
        '(`gzip -t` says trailing garbage): the lines they hold are not read; ' +
        'recompress what `gzip -dc` gives to import them',
    );
}

/** A read error with the file, and where in it: the line it came after, the bytes read. */
function readError(
  file: string,
  at: { gz: boolean; start: number; lineNo: number; bytesRead: number },
  err: unknown,
): Error {
  const where =
    at.start === 0
      ? `after line ${at.lineNo}`
      : `after line ${at.lineNo} of the lines from byte ${at.start}`;
  const read = at.gz ? `${at.bytesRead} compressed bytes read` : `${at.bytesRead} bytes read`;
  // Not instanceof Error: an error from another realm (a worker, a test's VM) is not one.
  const why = (err as Error | undefined)?.message ?? String(err);
  return new Error(`reading ${file}${at.gz ? ' (gzip)' : ''} ${where} (${read}): ${why}`, {
    cause: err,
  });
}

/** A line as a clean event, or why it was rejected (never the line itself). */
/** `now`: the server time the 24 h "ahead of the clock" check judges by. */
export function parseLine(
  line: string | OverlongLine,
  lineNo: number,
  now = Date.now(),
): CleanEvent | Rejected {
  if (typeof line !== 'string') {
    return {
      line: lineNo,
      reason:
        `line of ${line.overlong} bytes, longer than the ${line.max} a line may have ` +
        '(not one JSON event per line?)',
    };
  }
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
  const result = cleanEvent(raw, lineNo, now);
  if (result.ok) return result.event;
  return {
    line: lineNo,
    reason: 'invalid event',
    issues: result.issues.map(({ path, message }) => ({ path, message })),
  };
}

/**
 * Refuses a reject file that is the file to import (the same path, or the same file by
 * device and inode: a hard link, a symlink): the reject file is cut on resume and
 * written to, which would destroy the input (found by a review on 12-03: a typo, or tab
 * completion, emptied the file before a line was read). Refuses one that cannot be
 * written too (a directory, a folder that does not exist), without creating it: the
 * importer opens it only after Neo4j is up and the file hashed (review, 12-07). Called
 * before anything is read or written, by the CLI, the importer and the first load.
 */
export function checkRejectFile(file: string, rejectFile: string | undefined): void {
  if (rejectFile !== undefined && sameFile(file, rejectFile)) {
    throw new Error(
      `the reject file ${rejectFile} is the file to import, ${file}: it would be cut and ` +
        'overwritten; give --rejects another path (nothing was read or written)',
    );
  }
  const target = rejectFile ?? `${file}.rejects.jsonl`;
  const problem = cannotWrite(target);
  if (problem !== undefined) {
    throw new Error(
      `cannot write the reject file ${target}: ${problem} (nothing was read or written)`,
    );
  }
}

/** Why `file` could not be opened for appending (undefined: it could, as far as one can tell). */
function cannotWrite(file: string): string | undefined {
  try {
    if (statSync(file).isDirectory()) return `EISDIR: ${file} is a directory`;
    accessSync(file, fsConstants.W_OK);
    return undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return (err as Error).message;
  }
  const folder = path.dirname(file);
  try {
    if (!statSync(folder).isDirectory()) return `ENOTDIR: ${folder} is not a directory`;
    accessSync(folder, fsConstants.W_OK | fsConstants.X_OK);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

function sameFile(a: string, b: string): boolean {
  if (path.resolve(a) === path.resolve(b)) return true;
  try {
    const sa = statSync(a, { bigint: true });
    const sb = statSync(b, { bigint: true });
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return false; // one is missing: not the same file (a missing input fails elsewhere)
  }
}

/**
 * How a reject file begins: `none` (missing, empty, not a regular file, or one entry a
 * crash cut short), an `entry` (with the import's content key when it names one), or
 * `other`: a whole first line that is no reject entry (another file named by mistake).
 */
export type RejectFileHead =
  { kind: 'none' } | { kind: 'entry'; import: string | null } | { kind: 'other' };

function parseJsonLine(
  text: string,
): { line?: unknown; reason?: unknown; import?: unknown } | null {
  try {
    return JSON.parse(text) as { line?: unknown; reason?: unknown; import?: unknown } | null;
  } catch {
    return null;
  }
}

export function rejectFileHead(rejectFile: string): RejectFileHead {
  if (!existsSync(rejectFile) || !statSync(rejectFile).isFile()) return { kind: 'none' };
  const fd = openSync(rejectFile, 'r');
  try {
    const head = Buffer.alloc(64 * 1024);
    const got = readSync(fd, head, 0, head.length, 0);
    if (got === 0) return { kind: 'none' };
    const lf = head.subarray(0, got).indexOf(LF);
    const entry = parseJsonLine(head.toString('utf8', 0, lf < 0 ? got : lf));
    if (typeof entry?.line === 'number' && typeof entry.reason === 'string') {
      return { kind: 'entry', import: typeof entry.import === 'string' ? entry.import : null };
    }
    // No line end in a short file: the last entry, torn (keepRejectsUpTo drops it).
    return lf < 0 && got < head.length ? { kind: 'none' } : { kind: 'other' };
  } finally {
    closeSync(fd);
  }
}

/**
 * Copies a reject file that holds entries to `NAME.before-<time>[-k].jsonl` (never over
 * another), empties it and returns the copy's path; null if there is none, it is empty,
 * or it is not a regular file (/dev/null). Copied, not renamed: the file may be writable
 * where its folder is not, or a symlink whose target must go on receiving entries.
 */
export function setRejectsAside(rejectFile: string, now: number): string | null {
  if (!existsSync(rejectFile)) return null;
  const st = statSync(rejectFile);
  if (!st.isFile() || st.size === 0) return null;
  const stamp = new Date(now).toISOString().replace(/[:.]/g, '-');
  for (let k = 0; ; k++) {
    const tag = k === 0 ? stamp : `${stamp}-${k}`;
    const aside = rejectFile.replace(/(\.jsonl)?$/i, `.before-${tag}$1`);
    try {
      copyFileSync(rejectFile, aside, fsConstants.COPYFILE_EXCL);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw new Error(
        `cannot keep the earlier import's entries of the reject file ${rejectFile} ` +
          `(copying them to ${aside}: ${(err as Error).message}); move them away or pass --rejects`,
        { cause: err },
      );
    }
    truncateSync(rejectFile, 0);
    return aside;
  }
}

/**
 * On resume, drop reject entries past the checkpoint: those lines are read (and judged)
 * again. An entry cut short by a crash is dropped too: every entry up to the checkpoint
 * was written whole before it committed, so a torn one is past it. Entries are in line
 * order, so the file is cut after the last one kept, found by streaming it: a reject
 * file of any size is neither read into one string nor rewritten.
 */
export async function keepRejectsUpTo(rejectFile: string, line: number): Promise<void> {
  // Not a regular file (`--rejects /dev/null`): nothing to cut, and it cannot be truncated.
  if (!existsSync(rejectFile) || !statSync(rejectFile).isFile()) return;
  let keep = 0; // bytes of the entries kept so far
  if (line > 0) {
    const upTo = (l: string): boolean => {
      try {
        const entry = JSON.parse(l) as Partial<Rejected> | null;
        return typeof entry?.line === 'number' && entry.line <= line;
      } catch {
        return false;
      }
    };
    let carry: Buffer = Buffer.alloc(0);
    let past = false;
    for await (const chunk of createReadStream(rejectFile) as AsyncIterable<Buffer>) {
      const buf = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
      let start = 0;
      for (let lf = buf.indexOf(LF); lf >= 0; lf = buf.indexOf(LF, start)) {
        const text = buf.toString('utf8', start, lf);
        if (text.trim() !== '' && !upTo(text)) {
          past = true;
          break;
        }
        keep += lf + 1 - start;
        start = lf + 1;
      }
      if (past) break;
      carry = buf.subarray(start);
      // An entry is short (never the line itself): a longer run without a line end is not
      // one, and is not held.
      if (carry.length > MAX_LINE_BYTES) break;
    }
  }
  truncateSync(rejectFile, keep);
}
