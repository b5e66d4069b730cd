/**
 * The request thread's time to clean one REST batch of prompts that NFKC makes 18 times
 * longer (U+FDFA), under the batch's budget of normalised prompt characters
 * (validate.ts, MAX_BATCH_PROMPT_CHARS):
 *   worst: a prompt just under the budget (666,666 × U+FDFA → 12.0 M characters hashed),
 *          then two of the schema's longest (1 M): the first normalised (18 M characters)
 *          before it is refused, the second refused unread, the budget being spent;
 *   early: three of 1 M, refused after the first one's normalisation.
 *
 *   npx tsx bench/ingest/prompt-budget.ts [--repeats 5]
 */
import { cleanBatch } from '../../src/ingest/validate';
import { benchArgs, wholeOption } from '../options';

const args = benchArgs(__filename, { repeats: { type: 'string', default: '5' } });
const repeats = wholeOption('repeats', args.repeats);
const base = { type: 'request', accountId: 'acct-1', at: '2026-02-01T10:00:00Z' };
const prompt = (chars: number) => ({ ...base, prompt: '\ufdfa'.repeat(chars) });

function timed(events: unknown[]): number {
  const t = performance.now();
  const result = cleanBatch(events);
  const ms = performance.now() - t;
  if (result.ok) throw new Error('the batch should have been refused');
  return ms;
}

const worst: number[] = [];
const early: number[] = [];
for (let r = 0; r < repeats; r++) {
  worst.push(timed([prompt(666_666), prompt(1_000_000), prompt(1_000_000)]));
  early.push(timed([prompt(1_000_000), prompt(1_000_000), prompt(1_000_000)]));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const mib = (chars: number) => ((chars * 3) / 2 ** 20).toFixed(1);
console.log(`median of ${repeats}:`);
console.log(`  worst (${mib(2_666_666)} MiB of UTF-8)  ${median(worst).toFixed(0)} ms`);
console.log(`  early (${mib(3_000_000)} MiB of UTF-8)  ${median(early).toFixed(0)} ms`);
