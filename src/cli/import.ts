/**
 * `coterie import FILE`: streams a JSON-lines file into Neo4j with a progress
 * bar (events/s, ETA). Ctrl-C stops after the batch in flight; run the same
 * command again to resume. With --first-load, builds a new local database with
 * the offline importer instead (src/ingest/first-load.ts).
 */
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { firstLoad } from '../ingest/first-load';
import { endsLinesWithCR } from '../ingest/import-identity';
import { ImportLocked } from '../ingest/import-lock';
import {
  checkRejectFile,
  ImportChanged,
  ImportRefused,
  Importer,
  type MatchSummary,
} from '../ingest/importer';
import { EventWriter } from '../ingest/writer';
import { loadConfig, warnUnknownSettings } from '../platform/config';
import { loadCypher } from '../platform/cypher';
import { repoRoot } from '../platform/paths';
import { withRuntime } from './runtime';
import { progressBar, sayOnStderr, stopOnSignal } from './terminal';

export async function importCommand(
  file: string,
  opts: { batchSize?: number; rejects?: string; firstLoad?: boolean; recount?: boolean },
): Promise<void> {
  checkFirstLoadOptions(opts);
  await checkReadable(file);
  checkRejectFile(file, opts.rejects);
  if (opts.firstLoad) return firstLoadCommand(file, opts);
  await withRuntime(async ({ config, db, cypher }) => {
    const importer = new Importer(db, cypher, new EventWriter(db, cypher));
    const stop = stopOnSignal('stopping after the batch in flight; run the same command to resume');

    let hashing: ReturnType<typeof progressBar> | undefined;
    const doneHashing = () => {
      hashing?.stop();
      hashing = undefined;
    };
    let started = Date.now();
    let baseline: number | undefined;
    const bar = progressBar(
      'importing [{bar}] {percentage}% | {written} new, {duplicates} dup, {rejected} rejected | {rate} events/s | ETA {eta_formatted}',
      50,
    );
    const run = importer.run({
      file,
      batchSize: opts.batchSize ?? config.IMPORT_BATCH_SIZE,
      partRows: config.IMPORT_PART_ROWS,
      rejectFile: opts.rejects,
      signal: stop.signal,
      recount: opts.recount,
      // Known before a line is read: said at once, not after the import.
      onMatch: (m) => {
        doneHashing();
        reportMatch(file, m);
      },
      // The file is read once to hash it (what identifies an import) before importing.
      onHashing: (bytes, total) => {
        if (!hashing) {
          hashing = progressBar('identifying [{bar}] {percentage}% | ETA {eta_formatted}');
          hashing.start(total, 0);
        }
        hashing.update(bytes);
      },
      onProgress: (p) => {
        if (baseline === undefined) {
          doneHashing();
          started = Date.now();
          bar.start(1, 0, { written: 0, duplicates: 0, rejected: 0, rate: 0 });
        }
        // Rate over this process's own work: a resumed import starts from the checkpoint's counts.
        baseline ??= p.written + p.duplicates;
        const seconds = Math.max((Date.now() - started) / 1000, 0.001);
        bar.setTotal(p.totalBytes);
        bar.update(p.bytesRead, {
          written: p.written,
          duplicates: p.duplicates,
          rejected: p.rejected,
          rate: Math.round((p.written + p.duplicates - baseline) / seconds),
        });
      },
    });
    // The bars and the stop handler go whatever the import ends with: a failure (Neo4j
    // lost, a corrupt .gz) is printed on a line of its own, and a Ctrl-C while the
    // runtime then closes is not taken for one stopping the import.
    const summary = await run
      .catch((err: unknown) => {
        if (
          !(err instanceof ImportRefused) &&
          !(err instanceof ImportLocked) &&
          !(err instanceof ImportChanged)
        )
          throw err;
        return err;
      })
      .finally(() => {
        doneHashing();
        bar.stop();
        stop.dispose();
      });
    if (summary instanceof ImportLocked || summary instanceof ImportChanged) {
      console.error(`coterie: refused: ${summary.message}`);
      process.exitCode = 2;
      return;
    }
    if (summary instanceof ImportRefused) {
      console.error(
        `coterie: refused: ${summary.reason}: importing it as a new import would count ` +
          `again the events without an id imported from ${summary.earlierFile} before. ` +
          'Nothing was written; to import it anyway, pass --recount',
      );
      process.exitCode = 2;
      return;
    }
    console.log(JSON.stringify(summary));
    await reportPending(file, summary);
    if (summary.interrupted) process.exitCode = 130;
    // Nothing to do here, but the file's lines are not all in until the longer one's are.
    else if (summary.match === 'continued') {
      if (!summary.continuedByComplete) process.exitCode = 3;
    } else if (summary.resumedFromLine > 0 && summary.lines === summary.resumedFromLine) {
      const as = summary.matchedFile && summary.matchedFile !== path.resolve(file);
      if (summary.written + summary.duplicates === 0 && summary.rejected > 0) {
        // a file of only bad lines imported again is still the wrong file: exit 1 again
        const reasons = as
          ? ` when it was imported as ${summary.matchedFile}; reasons in that import's reject file`
          : `; reasons in ${summary.rejectFile}`;
        console.error(
          `coterie: no line of ${file} is a valid event (${summary.rejected} rejected${reasons}); it was imported before`,
        );
        process.exitCode = 1;
      } else {
        console.error(
          `coterie: ${file} was already imported in full${as ? ` (as ${summary.matchedFile})` : ''}; nothing new was written`,
        );
      }
    } else reportRejects(file, summary);
  });
}

/**
 * --first-load builds a new database from the whole file in one go: an import's window
 * size (--batch-size) and its overlap rule (--recount) mean nothing to it, and taking
 * them silently would let a user believe they applied.
 */
function checkFirstLoadOptions(opts: {
  batchSize?: number;
  firstLoad?: boolean;
  recount?: boolean;
}) {
  if (!opts.firstLoad) return;
  const ignored = [
    opts.batchSize !== undefined && '--batch-size',
    opts.recount && '--recount',
  ].filter((o): o is string => typeof o === 'string');
  if (ignored.length > 0) {
    throw new Error(
      `--first-load takes no ${ignored.join(', ')}: it builds a new database from the whole ` +
        'file with the offline importer (no windows, no earlier import to overlap)',
    );
  }
}

/**
 * Fails at once, naming the file, when it cannot be read: a typo would otherwise be
 * said only after Neo4j was reached or started (or the launcher built, minutes), as
 * "cannot reach Neo4j" or "data folder in use" when that failed first.
 */
export async function checkReadable(file: string): Promise<void> {
  try {
    if (!(await stat(file)).isFile()) throw new Error('not a file');
    await (await open(file, 'r')).close();
  } catch (err) {
    // "ENOENT: no such file or directory, stat '/x'": the file is named once, up front.
    const why = (err as Error).message.replace(/, \w+ '.*'$/, '');
    throw new Error(`cannot read ${file}: ${why}`, { cause: err });
  }
}

/**
 * Says on stderr that an unfinished last line was left for the next run, or, if those
 * bytes end lines with a CR alone, that such line ends are not read past the last LF.
 */
async function reportPending(
  file: string,
  { pendingBytes, totalBytes }: { pendingBytes: number; totalBytes: number },
): Promise<void> {
  if (pendingBytes === 0) return;
  if (await endsLinesWithCR(file, totalBytes, totalBytes + pendingBytes).catch(() => false)) {
    console.error(
      `coterie: the last ${pendingBytes} bytes of ${file} have no line feed (LF) but lines ` +
        'ended by a carriage return (CR) alone: a file is read only through its last LF, so ' +
        "they were not imported; convert its line ends (tr '\\r' '\\n' < FILE > FILE.lf) " +
        'and import that',
    );
    return;
  }
  console.error(
    `coterie: the last ${pendingBytes} bytes of ${file} end no line (one still ` +
      'being written?): left for the next run',
  );
}

/** Says on stderr which earlier import the file continued, and what it counts again. */
function reportMatch(file: string, s: MatchSummary & { resumedFromLine: number }): void {
  if (s.match === 'appended') {
    console.error(
      `coterie: ${file} is ${s.matchedFile} with lines appended: continued that import after line ${s.resumedFromLine}`,
    );
  }
  for (const warning of s.warnings) console.error(`coterie: warning: ${warning}`);
}

/**
 * Bad lines do not stop an import, but they are said on stderr; a file none of whose
 * lines is a valid event (the wrong file, or the wrong format) exits 1.
 */
function reportRejects(
  file: string,
  s: { lines: number; written: number; duplicates: number; rejected: number; rejectFile: string },
): void {
  if (s.rejected === 0) return;
  if (s.written + s.duplicates === 0) {
    console.error(
      `coterie: no line of ${file} is a valid event (${s.rejected} rejected; reasons in ${s.rejectFile})`,
    );
    process.exitCode = 1;
  } else {
    console.error(
      `coterie: ${s.rejected} of ${s.lines} lines rejected; reasons in ${s.rejectFile}`,
    );
  }
}

async function firstLoadCommand(file: string, opts: { rejects?: string }): Promise<void> {
  const config = loadConfig();
  // No runtime here (it starts no service's Neo4j): the warning withRuntime gives, said here.
  warnUnknownSettings({
    warn: (o, msg) => sayOnStderr(`${msg}: ${(o as { unknown: string[] }).unknown.join(', ')}`),
  });
  if (config.NEO4J_URI) {
    throw new Error(
      '--first-load builds the embedded local database, but NEO4J_URI is set; for a server, ' +
        'use its own `neo4j-admin database import`, or import without --first-load',
    );
  }
  const stop = stopOnSignal('stopping; nothing is kept, run the same command to start over');
  const bar = progressBar('reading and folding [{bar}] {percentage}% | ETA {eta_formatted}');
  bar.start(1, 0);
  try {
    const summary = await firstLoad({
      file,
      dataDir: path.resolve(repoRoot(), config.NEO4J_LOCAL_DATA_DIR),
      cypher: loadCypher(),
      rejectFile: opts.rejects,
      heap: config.NEO4J_LOCAL_HEAP,
      pagecache: config.NEO4J_LOCAL_PAGECACHE,
      collector: config.NEO4J_LOCAL_GC,
      startTimeoutMs: config.NEO4J_LOCAL_START_TIMEOUT_MS,
      signal: stop.signal,
      buildLog: sayOnStderr,
      // The import tool's stages as they start: a big import runs for minutes.
      log: (line) => {
        const stage = /\]: (.+), started \d{4}-/.exec(line)?.[1];
        if (stage) process.stderr.write(`  ${stage}\n`);
      },
      onProgress: (p) => {
        bar.setTotal(p.totalBytes);
        bar.update(p.bytesRead);
      },
      onPhase: (phase) => {
        if (phase === 'read') return;
        if (phase === 'csv') bar.stop();
        const what = {
          csv: 'writing CSV files',
          import: 'running the Neo4j import tool',
          index: 'building constraints and indexes',
          finish: 'moving the new database into place',
        }[phase];
        process.stderr.write(`${what}…\n`);
      },
    });
    console.log(JSON.stringify(summary));
    await reportPending(file, summary);
    if (summary.interrupted) process.exitCode = 130;
    else reportRejects(file, summary);
  } finally {
    bar.stop();
    stop.dispose();
  }
}
