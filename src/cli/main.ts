#!/usr/bin/env node
/**
 * The `coterie` command line: bulk import and other operator tasks, sharing the
 * service's config, database connection and migrations.
 */
import { Command } from 'commander';
import { positiveInt, scaleArg, seedArg } from './args';
import { importCommand } from './import';
import { linkageCommand } from './linkage';
import { simulateCommand } from './simulate';

// A reader gone before the result is printed (`… | true`) fails stdout's write with EPIPE,
// an 'error' event that ended the process with a stack trace and exit 1 after the work
// was done, skipping its clean-up (review, 12-07). Nothing is left to tell that reader:
// the exit code stays the work's.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
});

const program = new Command();
program.name('coterie').description('Coterie: graph-based account linkage').showHelpAfterError();

program
  .command('import')
  .description(
    'import events from a JSON-lines file (.jsonl or .jsonl.gz); resumes after an interruption',
  )
  .argument('<file>', 'events, one JSON object per line')
  .option('--batch-size <n>', 'events folded per window (default: IMPORT_BATCH_SIZE)', positiveInt)
  .option('--rejects <file>', 'where bad lines are reported (default: <file>.rejects.jsonl)')
  .option(
    '--recount',
    'import a file that overlaps an earlier import it cannot continue (refused by default, exit 2), or import again whole a file whose unfinished import a longer file took over and did not finish: events without an id that both hold are counted again',
  )
  .option(
    '--first-load',
    'create a NEW embedded local database from the file with the offline bulk importer (NEO4J_URI unset, service stopped, NEO4J_LOCAL_DATA_DIR empty); several times faster',
  )
  .action(importCommand);

program
  .command('simulate')
  .description('write synthetic campaign + benign events (JSON-lines) and a ground-truth file')
  .option(
    '--scale <s>',
    '1 = the reported scale (~24k campaign accounts, ~16M requests); at most 5',
    scaleArg,
    0.1,
  )
  .option('--seed <n>', 'same seed, same files', seedArg, 42)
  .requiredOption('--out <dir>', 'output folder (events.jsonl, truth.csv, params.json)')
  .option('--gzip', 'write events.jsonl.gz')
  .action(simulateCommand);
program.addCommand(linkageCommand());

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`coterie: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
