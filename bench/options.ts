/**
 * Numeric options of the benches, read as the CLI reads its own (plain digits, plain
 * decimals): Number() read 'abc' as NaN and '' as 0, and a bench then printed figures of
 * a run that was not the one named (review, 12-06).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DECIMAL, DIGITS } from '../src/platform/number-text';

/** A bad option value: a bench reports it as one line and exit code 2, not a stack trace. */
export class OptionError extends Error {}

/** A whole number ≥ `min` from `--name text`. */
export function wholeOption(name: string, text: string | undefined, min = 1): number {
  const n = text !== undefined && DIGITS.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min) {
    throw new OptionError(`--${name}: "${text}" is not a whole number ≥ ${min}`);
  }
  return n;
}

/** A share in (0, 1] from `--name text`. */
export function shareOption(name: string, text: string | undefined): number {
  const n = text !== undefined && DECIMAL.test(text) ? Number(text) : NaN;
  if (!(n > 0 && n <= 1)) throw new OptionError(`--${name}: "${text}" is not a number in (0, 1]`);
  return n;
}

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** The first doc comment of a script, its ` * ` margins stripped: what `--help` shows. */
function header(script: string): string {
  const m = /\/\*\*([\s\S]*?)\*\//.exec(readFileSync(script, 'utf8'));
  if (!m?.[1]) return '';
  return m[1]
    .split('\n')
    .map((line) => line.replace(/^\s*\* ?/, ''))
    .join('\n')
    .trim();
}

function usage(script: string, options: OptionsConfig): string {
  const lines = Object.entries(options).map(([name, o]) => {
    const value = o.type === 'string' ? ' <value>' : '';
    const d = Array.isArray(o.default) ? o.default.join(',') : o.default;
    const shown = d === undefined || d === false || d === '' ? '' : ` (default ${String(d)})`;
    const many = o.multiple ? ', repeatable' : '';
    return `  --${name}${value}${shown}${many}`;
  });
  return `${header(script)}\n\nOptions:\n${lines.join('\n')}\n  --help`;
}

/**
 * parseArgs for a bench script (`script` is its `__filename`): `--help` prints the
 * script's header comment and its options, and a mistyped option is one line and exit
 * code 2, where parseArgs alone answered both with a stack trace.
 */
export function benchArgs<const O extends OptionsConfig>(
  script: string,
  options: O,
): ReturnType<typeof parseArgs<{ options: O }>>['values'] {
  // option values read at a script's top level throw outside any runBench
  process.on('uncaughtException', failed);
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(usage(script, options));
    process.exit(0);
  }
  try {
    return parseArgs({ args: argv, options }).values;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS')) throw err;
    failed(new OptionError(`${path.basename(script)}: ${(err as Error).message}`));
  }
}

function failed(err: unknown): never {
  if (err instanceof OptionError) {
    console.error(`${err.message} (--help lists the options)`);
    process.exit(2);
  }
  console.error(err);
  process.exit(1);
}

/** Runs a bench's `main`: a bad option is one line and exit code 2, any other failure exit code 1. */
export function runBench(main: () => Promise<void>): void {
  main().catch(failed);
}
