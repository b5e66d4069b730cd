/**
 * First load (`coterie import FILE --first-load`): a whole JSON-lines file into a NEW
 * embedded local database through Neo4j's offline bulk importer instead of Cypher.
 * The same validation, reject file and fold as the online importer, but the file is
 * folded whole and handed to `neo4j-admin database import` as CSV, which writes the
 * store directly (several times faster than transactions; bench/RESULTS.md).
 *
 * Steps: read + validate + fold (a thread per core for big files, fold-file.ts) → CSV,
 * while the launcher's JVM boots → import tool and Neo4j start in that one JVM → apply
 * the migrations (constraints and indexes are built here, once) and record the file's
 * import checkpoint → stop → move the store into place. Everything happens in a staging
 * directory beside `dataDir`; only a complete, migrated store is moved in, so an
 * interrupted or failed first load leaves nothing behind and is simply run again.
 * Refuses a `dataDir` that already holds anything: adding to a database is the online
 * importer's job. One first load per data directory at a time.
 */
import { randomUUID } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
} from 'node:fs';
import path from 'node:path';
import type { CypherMap } from '../platform/cypher';
import { migrate } from '../platform/migrations';
import { openDatabase } from '../platform/neo4j';
import { isMountPoint } from '../platform/mount-point';
import { peakRssMiB } from '../platform/peak-rss';
import { checkImportPath, startLocalNeo4j, type Collector } from '../platform/neo4j-local';
import { takePidLock } from '../platform/pid-lock';
import { isGzipFile } from './gzip-file';
import { foldFile } from './fold-file';
import { writeImportFiles } from './import-csv';
import { identify, lastLineEnd, readHead } from './import-identity';
import { checkRejectFile, type ImportProgress, recordImported } from './importer';

export interface FirstLoadOptions {
  file: string;
  /** the local Neo4j home to create (NEO4J_LOCAL_DATA_DIR); must not exist or be empty */
  dataDir: string;
  cypher: CypherMap;
  rejectFile?: string;
  /** JVM heap for the import tool and Neo4j, Neo4j page cache */
  heap?: string;
  pagecache?: string;
  /** the Neo4j JVM's garbage collector (startLocalNeo4j's) */
  collector?: Collector;
  /** how long Neo4j may take to be ready once the import is done (startLocalNeo4j's) */
  startTimeoutMs?: number;
  /** threads that read and fold (default: fold-file.ts decides by file size and cores) */
  workers?: number;
  /** while reading, at most every 0.5 s (bytes; the counts come at the end of reading) */
  onProgress?: (p: ImportProgress) => void;
  /** each step as it starts: read, csv, import, index, finish */
  onPhase?: (phase: FirstLoadPhase) => void;
  /** stops at the next line or step; nothing is left behind */
  signal?: AbortSignal;
  log?: (msg: string) => void;
  /** The embedded launcher's build notices (startLocalNeo4j's buildLog; default: log). */
  buildLog?: (msg: string) => void;
}

export type FirstLoadPhase = 'read' | 'csv' | 'import' | 'index' | 'finish';

/**
 * Up to this many events the launcher's JVM compiles with C1 only. It lives for one
 * import, some migrations and a stop; on 2 cores C2 compiling beside the tool's threads
 * costs more than it wins back in so short a life, and less than it wins in a long one.
 * Measured (bench/RESULTS.md, 11-30): 1M events 17.3–17.8 s with C1 only against
 * 19.3–22.3 s; 3M 36.7–37.3 s against 35.7–39.3 s; 25M import + index 147 s against 65 s.
 */
const C1_ONLY_UP_TO = 2_000_000;

export interface FirstLoadSummary extends ImportProgress {
  /** bytes after a plain file's last line break, not read (as ImportSummary's) */
  pendingBytes: number;
  rejectFile: string;
  interrupted: boolean;
  seconds: number;
  /** seconds per step */
  phases: Partial<Record<FirstLoadPhase, number>>;
  /** this process's peak RSS so far (the fold is held in memory) */
  peakRssMiB: number;
  /**
   * Peak RSS of the launcher's JVM (the import tool, then Neo4j building its indexes),
   * read from /proc just before it stops; absent where there is no /proc or no JVM ran.
   */
  neo4jPeakRssMiB?: number;
}

const PROGRESS_MS = 500;

/** Settles once `signal` aborts (never without one). */
function whenAborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) resolve();
    else signal?.addEventListener('abort', () => resolve(), { once: true });
  });
}

export async function firstLoad(opts: FirstLoadOptions): Promise<FirstLoadSummary> {
  // One first load per data directory (pid-lock.ts says why).
  const dataDir = path.resolve(opts.dataDir);
  // Before anything is written: the reject file is opened with 'w' once the fold is in.
  checkRejectFile(path.resolve(opts.file), opts.rejectFile);
  mkdirSync(path.dirname(dataDir), { recursive: true }); // .coterie/ on a fresh clone
  const release = takePidLock(`${dataDir}.first-load.lock`, `--first-load into ${dataDir}`);
  try {
    return await loadLocked(opts);
  } finally {
    release();
  }
}

/** The load finished, but its store could not be moved to the data directory. */
class FinishedElsewhere extends Error {
  constructor(staging: string, dataDir: string, cause: unknown) {
    super(
      `the new database is complete in ${staging} but could not be moved to ${dataDir} ` +
        `(${(cause as Error).message}); move its contents there yourself`,
      { cause },
    );
  }
}

async function loadLocked(opts: FirstLoadOptions): Promise<FirstLoadSummary> {
  const started = Date.now();
  const file = path.resolve(opts.file);
  const dataDir = path.resolve(opts.dataDir);
  const log = opts.log ?? (() => undefined);
  if (existsSync(dataDir) && !statSync(dataDir).isDirectory()) {
    throw new Error(`--first-load creates a new database in ${dataDir}, which is not a directory`);
  }
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) {
    throw new Error(
      `--first-load creates a new database, but ${dataDir} is not empty; ` +
        'import into an existing database without --first-load (or move that directory away)',
    );
  }
  if (existsSync(dataDir) && isMountPoint(dataDir)) {
    // The store is built beside the data directory and moved in at the very end, which a
    // mount point refuses (EBUSY): said now, not after all the work.
    throw new Error(
      `--first-load builds the new database beside ${dataDir} and moves it in, but ${dataDir} ` +
        'is a mount point, which cannot be replaced; use a directory inside it as the data directory',
    );
  }
  // As the importer reads: a plain file through its last line break, so an unfinished
  // last line waits for a later import and the checkpoint's key is the importer's.
  const fileBytes = statSync(file).size;
  const gz = isGzipFile(file);
  const totalBytes = gz ? fileBytes : await lastLineEnd(file, fileBytes);
  const rejectFile = opts.rejectFile ?? `${file}.rejects.jsonl`;
  // Said before the read and fold (minutes, GiBs for a large file), not after them.
  try {
    closeSync(openSync(rejectFile, 'a'));
  } catch (err) {
    throw new Error(`cannot write the reject file ${rejectFile}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const staging = `${dataDir}.first-load`;
  checkImportPath(staging); // said before the read, not after it
  // A staging directory left by an interrupted first load holds nothing worth keeping.
  rmSync(staging, { recursive: true, force: true });
  const csvDir = path.join(staging, 'csv');
  // the owner's alone, as the data directory: it holds the whole graph as CSV
  mkdirSync(csvDir, { recursive: true, mode: 0o700 });

  const progress: ImportProgress = {
    bytesRead: 0,
    totalBytes,
    lines: 0,
    written: 0,
    duplicates: 0,
    rejected: 0,
  };
  const phases: FirstLoadSummary['phases'] = {};
  let neo4jPeakRssMiB: number | undefined;
  let phase: FirstLoadPhase | undefined;
  let phaseStart = Date.now();
  const step = (next: FirstLoadPhase | undefined) => {
    if (phase) phases[phase] = (Date.now() - phaseStart) / 1000;
    phase = next;
    phaseStart = Date.now();
    if (next) opts.onPhase?.(next);
  };
  const summary = (interrupted: boolean): FirstLoadSummary => ({
    ...progress,
    pendingBytes: fileBytes - totalBytes,
    rejectFile,
    interrupted,
    seconds: (Date.now() - started) / 1000,
    phases,
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    ...(neo4jPeakRssMiB === undefined ? {} : { neo4jPeakRssMiB }),
  });
  const stopped = () => {
    if (!opts.signal?.aborted) return false;
    rmSync(staging, { recursive: true, force: true });
    return true;
  };

  try {
    step('read');
    let lastReport = 0;
    // The checkpoint's key is the file's hash: one more read, beside the fold's threads.
    const identified = readHead(file).then((head) =>
      identify(file, totalBytes, head, [], { signal: opts.signal }),
    );
    identified.catch(() => undefined); // awaited once the fold is in
    const importKey = identified.then(({ identity }) => identity.key);
    importKey.catch(() => undefined); // the same failure, reported below
    const folded = await foldFile(file, {
      rejectFile,
      partsDir: staging,
      importKey,
      workers: opts.workers,
      signal: opts.signal,
      ...(gz ? {} : { size: totalBytes }),
      onBytes: (n) => {
        progress.bytesRead += n;
        if (Date.now() - lastReport >= PROGRESS_MS) {
          lastReport = Date.now();
          opts.onProgress?.({ ...progress });
        }
      },
    });
    if (stopped() || folded === null) return summary(true);
    const { identity } = await identified;
    Object.assign(progress, {
      lines: folded.lines,
      written: folded.written,
      duplicates: folded.duplicates,
      rejected: folded.rejected,
    });
    opts.onProgress?.({ ...progress });
    // No event from a file with bytes (bad lines, blank ones, or none ended by a line
    // feed): a database would be installed that records this file as imported, and the
    // next first load, with the right file, would find the directory not empty. An empty
    // file builds an empty database, as README says.
    if (folded.written + folded.duplicates === 0) {
      const pending = fileBytes - totalBytes;
      if (folded.rejected > 0)
        throw new Error(
          `no line of ${file} is a valid event (reasons in ${rejectFile}); no database was built`,
        );
      if (pending > 0)
        throw new Error(
          `${file} has no line ended by a line feed: its last ${pending} bytes are read only once one ends them ` +
            `(lines that end with a lone \\r: convert them with tr '\\r' '\\n'); no database was built`,
        );
      if (folded.lines > 0)
        throw new Error(`${file} holds only blank lines; no database was built`);
    }
    const { fold, eventIds } = folded;

    // The launcher's JVM boots while the CSV files are written; it then runs the import
    // tool and starts Neo4j on the new store.
    step('csv');
    const local = await startLocalNeo4j({
      dataDir: staging,
      port: 0,
      heap: opts.heap,
      pagecache: opts.pagecache,
      collector: opts.collector,
      startTimeoutMs: opts.startTimeoutMs,
      jvmArgs: progress.written <= C1_ONLY_UP_TO ? ['-XX:TieredStopAtLevel=1'] : [],
      bulkImport: () => {
        const files = writeImportFiles(fold, eventIds, csvDir, {
          token: randomUUID(),
          at: Date.now(),
        });
        step('import');
        // Nothing to load (an empty file): Neo4j creates an empty store.
        return files.nodes.length > 0 ? files : undefined;
      },
      onImported: () => {
        rmSync(csvDir, { recursive: true, force: true });
        step('index');
      },
      signal: opts.signal,
      log,
      buildLog: opts.buildLog,
    }).catch((err: unknown) => {
      // Stopped before Neo4j was ready: the launcher is gone, the staging dir goes next.
      if (opts.signal?.aborted) return null;
      throw err;
    });
    if (local === null) {
      stopped();
      return summary(true);
    }
    try {
      const db = openDatabase({ uri: local.uri, user: local.user, password: local.password });
      try {
        const finish = (async () => {
          await migrate(db, opts.cypher, { log });
          // The online importer then sees these bytes as done and adds nothing twice. No
          // bytes, no record: one under the hash of nothing was taken for an import of
          // every file not yet ending a line, which then could never start (review, 12-07).
          if (identity.size > 0)
            await db.write((tx) =>
              recordImported(tx, opts.cypher, identity, progress, folded.endsWithNewline),
            );
        })();
        finish.catch(() => undefined); // settled by the close below once stopped
        // Stopped while the indexes populate (minutes on a big store): not waited for, as
        // the staging store they are built in is thrown away (review, 12-06).
        await Promise.race([finish, whenAborted(opts.signal)]);
      } finally {
        await db.close();
      }
    } finally {
      neo4jPeakRssMiB = peakRssMiB(local.pid);
      await local.stop();
    }
    if (stopped()) return summary(true);

    step('finish');
    rmSync(path.join(staging, 'import.report'), { force: true });
    try {
      if (existsSync(dataDir)) rmdirSync(dataDir); // still empty, or this throws
      mkdirSync(path.dirname(dataDir), { recursive: true });
      renameSync(staging, dataDir);
    } catch (err) {
      // The new database is whole: not thrown away over its last move (a data directory
      // that is a mount point: EBUSY; another file system: EXDEV).
      throw new FinishedElsewhere(staging, dataDir, err);
    }
    step(undefined);
    return summary(false);
  } catch (err) {
    if (!(err instanceof FinishedElsewhere)) rmSync(staging, { recursive: true, force: true });
    throw err;
  }
}
