/**
 * `coterie import FILE`: streams a JSON-lines file into Neo4j with a progress
 * bar (events/s, ETA). Ctrl-C stops after the batch in flight; run the same
 * command again to resume.
 */
import { SingleBar } from 'cli-progress';
import { Importer } from '../ingest/importer';
import { EventWriter } from '../ingest/writer';
import { withRuntime } from './runtime';

export async function importCommand(
  file: string,
  opts: { batchSize?: number; rejects?: string },
): Promise<void> {
  await withRuntime(async ({ config, db, cypher }) => {
    const importer = new Importer(db, cypher, new EventWriter(db, cypher));
    const abort = new AbortController();
    const onSignal = () => {
      process.stderr.write(
        '\nstopping after the batch in flight; run the same command to resume\n',
      );
      abort.abort();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);

    const started = Date.now();
    let baseline: number | undefined;
    const bar = new SingleBar({
      format:
        'importing [{bar}] {percentage}% | {written} new, {duplicates} dup, {rejected} rejected | {rate} events/s | ETA {eta_formatted}',
      stream: process.stderr,
      noTTYOutput: true,
      notTTYSchedule: 5000,
      etaBuffer: 50,
    });
    bar.start(1, 0, { written: 0, duplicates: 0, rejected: 0, rate: 0 });
    const summary = await importer.run({
      file,
      batchSize: opts.batchSize ?? config.IMPORT_BATCH_SIZE,
      partRows: config.IMPORT_PART_ROWS,
      rejectFile: opts.rejects,
      signal: abort.signal,
      onProgress: (p) => {
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
    bar.stop();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    console.log(JSON.stringify(summary));
    if (summary.interrupted) process.exitCode = 130;
  });
}
