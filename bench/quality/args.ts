/**
 * Options of the quality benches: seed and scale parsed as the CLI parses --seed (plain
 * decimal digits in [0, 2^32)) and simulate's --scale (a decimal > 0), where Number()
 * read '' as 0 and 'x' as NaN (which then ran as seed 0); run.ts's import and JVM options.
 */
import { positiveInt, positiveNumber, seedArg } from '../../src/cli/args';
import { loadConfig, MEMORY_SIZE, MEMORY_SIZE_RULE } from '../../src/platform/config';

/** One seed, from `--name text`. */
export function seedOption(name: string, text: string): number {
  try {
    return seedArg(text);
  } catch {
    throw new Error(`--${name}: "${text}" is not a seed (an integer in [0, 2^32))`);
  }
}

/** A comma-separated list of seeds; an empty or non-numeric entry is refused, not read as 0. */
export function seedsOption(name: string, text: string): number[] {
  return text.split(',').map((entry) => seedOption(name, entry));
}

/** `--scale`, as simulate's (the scale also names the simulation's cache folder). */
export function scaleOption(text: string): number {
  try {
    return positiveNumber(text);
  } catch {
    throw new Error(`--scale: "${text}" is not a decimal number > 0`);
  }
}

/** run.ts's options past scale and seed, as parseArgs gives them. */
export interface RunArgs {
  'first-load'?: boolean;
  'batch-size'?: string;
  heap?: string;
  pagecache?: string;
}

export interface RunOptions {
  firstLoad: boolean;
  /** Events per import window; undefined: the config's IMPORT_BATCH_SIZE. */
  batchSize?: number;
  heap: string;
  pagecache: string;
}

/**
 * `--batch-size` a positive integer (Number() made 'x' NaN, one window holding the whole
 * file, and 0 or −5 one-event windows), and not with `--first-load`, which has no
 * batches (it was ignored); `--heap` and `--pagecache` sizes as NEO4J_LOCAL_HEAP is
 * checked (config.ts), before they reach the JVM and the launcher. Their defaults are the
 * service's shipped NEO4J_LOCAL_HEAP / NEO4J_LOCAL_PAGECACHE, so the bench measures what ships.
 */
export function runOptions(args: RunArgs): RunOptions {
  const firstLoad = args['first-load'] ?? false;
  const shipped = loadConfig({});
  const out: RunOptions = {
    firstLoad,
    heap: memoryOption('heap', args.heap ?? shipped.NEO4J_LOCAL_HEAP),
    pagecache: memoryOption('pagecache', args.pagecache ?? shipped.NEO4J_LOCAL_PAGECACHE),
  };
  const batch = args['batch-size'];
  if (batch !== undefined) {
    if (firstLoad) throw new Error('--batch-size does nothing with --first-load (no batches)');
    try {
      out.batchSize = positiveInt(batch);
    } catch {
      throw new Error(`--batch-size: "${batch}" is not a positive integer`);
    }
  }
  return out;
}

function memoryOption(name: string, text: string): string {
  if (!MEMORY_SIZE.test(text)) throw new Error(`--${name}: "${text}" is not ${MEMORY_SIZE_RULE}`);
  return text;
}
