#!/usr/bin/env node
/**
 * The `coterie` command line: bulk import and other operator tasks, sharing the
 * service's config, database connection and migrations.
 */
import { Command, InvalidArgumentError } from 'commander';
import { importCommand } from './import';

const program = new Command();
program.name('coterie').description('Coterie: graph-based account linkage').showHelpAfterError();

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

program
  .command('import')
  .description(
    'import events from a JSON-lines file (.jsonl or .jsonl.gz); resumes after an interruption',
  )
  .argument('<file>', 'events, one JSON object per line')
  .option('--batch-size <n>', 'events per transaction (default: IMPORT_BATCH_SIZE)', positiveInt)
  .option('--rejects <file>', 'where bad lines are reported (default: <file>.rejects.jsonl)')
  .action(importCommand);

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`coterie: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
