/**
 * Fingerprinting raw prompts on the request path: `simhash` beside the straightforward
 * version of the documented algorithm (regex split, a string and a TextEncoder buffer per
 * bigram), timed in the same run on the same texts; both must give the same fingerprints.
 * A request waits on this, so it is the event loop's time per body.
 *
 *   npx tsx bench/ingest/simhash.ts [--chars 1000000] [--prompts 10] [--repeats 5] [--text expanding]
 *   (defaults: ten prompts of the schema's longest, 1 M characters: a 10 MiB body)
 *   --text expanding: every character U+FDFA, which NFKC turns into 18 characters and four
 *   words (the worst case found for work per byte; 3 bytes of UTF-8 each, so three such
 *   prompts of 1 M characters fill a 10 MiB body)
 */
import { simhash } from '../../src/ingest/simhash';
import { benchArgs, wholeOption } from '../options';

const args = benchArgs(__filename, {
  chars: { type: 'string', default: '1000000' },
  prompts: { type: 'string', default: '10' },
  repeats: { type: 'string', default: '5' },
  text: { type: 'string', default: 'vocab' },
});
if (!['vocab', 'expanding'].includes(args.text)) throw new Error('--text is vocab or expanding');
const chars = wholeOption('chars', args.chars);
const count = wholeOption('prompts', args.prompts);
const repeats = wholeOption('repeats', args.repeats);

// Code with identifiers, prose, accented Latin and CJK: a long agentic-coding context.
const VOCAB = [
  'const',
  'result',
  '=',
  'await',
  'fetch(url);',
  'return',
  'the',
  'model',
  'should',
  'refactor',
  'function',
  'parseConfig',
  '{',
  '}',
  'naïve',
  'café',
  'Straße',
  '数据',
  '函数',
  'TODO:',
  'error',
  'handler',
  '42',
  '0x1f',
  'if',
  '(x',
  '>',
  '0)',
];

function texts(): string[] {
  if (args.text === 'expanding') return Array.from({ length: count }, () => '\ufdfa'.repeat(chars));
  let seed = 42;
  const out: string[] = [];
  for (let p = 0; p < count; p++) {
    const parts: string[] = [];
    let length = 0;
    while (length < chars) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      const word = VOCAB[seed % VOCAB.length] as string;
      parts.push(word, seed % 7 === 0 ? '\n' : ' ');
      length += word.length + 1;
    }
    out.push(`prompt ${p}\n${parts.join('')}`.slice(0, chars));
  }
  return out;
}

/** The documented algorithm written plainly: what simhash.ts did before it was tuned. */
function reference(text: string): string {
  const tokens = text
    .normalize('NFKC')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((t) => t.length > 0);
  const features =
    tokens.length === 1 ? tokens : tokens.slice(1).map((t, i) => `${tokens[i]} ${t}`);
  const votes = new Int32Array(64);
  const encoder = new TextEncoder();
  for (const feature of features) {
    let hi = 0xcbf29ce4;
    let lo = 0x84222325;
    for (const byte of encoder.encode(feature)) {
      lo = (lo ^ byte) >>> 0;
      const loMul = lo * 0x1b3;
      hi = (hi * 0x1b3 + Math.floor(loMul / 0x100000000) + ((lo << 8) >>> 0)) % 0x100000000;
      lo = loMul % 0x100000000;
    }
    for (let b = 0; b < 32; b++) {
      votes[b] = (votes[b] as number) + ((hi >>> (31 - b)) & 1 ? 1 : -1);
      votes[32 + b] = (votes[32 + b] as number) + ((lo >>> (31 - b)) & 1 ? 1 : -1);
    }
  }
  let hi = 0;
  let lo = 0;
  for (let b = 0; b < 32; b++) {
    if ((votes[b] as number) > 0) hi |= 1 << (31 - b);
    if ((votes[32 + b] as number) > 0) lo |= 1 << (31 - b);
  }
  return (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
}

function time(fn: (t: string) => string, inputs: string[]): { ms: number; out: string[] } {
  const start = process.hrtime.bigint();
  const out = inputs.map(fn);
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, out };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const inputs = texts();
const mib = inputs.reduce((n, t) => n + Buffer.byteLength(t), 0) / 2 ** 20;
const ours: number[] = [];
const theirs: number[] = [];
for (let r = 0; r < repeats; r++) {
  // Alternate which goes first so neither always runs on a warmer JIT.
  const order = r % 2 === 0 ? ['ours', 'reference'] : ['reference', 'ours'];
  for (const which of order) {
    const run = time(which === 'ours' ? simhash : reference, inputs);
    (which === 'ours' ? ours : theirs).push(run.ms);
    if (which === 'ours' && r === 0) {
      const expected = inputs.map(reference);
      const differ = run.out.filter((fp, i) => fp !== expected[i]).length;
      if (differ > 0) throw new Error(`${differ} of ${inputs.length} fingerprints differ`);
    }
  }
}
const oursMs = median(ours);
const refMs = median(theirs);
console.log(
  `${count} prompts × ${chars.toLocaleString('en')} chars of ${args.text} text (${mib.toFixed(1)} MiB UTF-8), median of ${repeats}:`,
);
console.log(`  simhash    ${oursMs.toFixed(0)} ms  (${(mib / (oursMs / 1000)).toFixed(1)} MiB/s)`);
console.log(`  reference  ${refMs.toFixed(0)} ms  (${(mib / (refMs / 1000)).toFixed(1)} MiB/s)`);
console.log(`  reference / simhash: ${(refMs / oursMs).toFixed(2)}×; the same fingerprints`);
