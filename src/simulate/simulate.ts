/**
 * `simulate()`: writes a synthetic event stream (events.jsonl[.gz], public event contract),
 * the ground truth (truth.csv: account → population) and the effective parameters
 * (params.json). It exists to measure detection quality against known campaigns; the
 * same seed always gives byte-identical files.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { finished, pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { takePidLock } from '../platform/pid-lock';
import { Generator } from './generate';
import { type EffectiveParams, SimParams, effectiveParams } from './params';
import { buildPopulation } from './population';

export interface SimulateOptions {
  /** 1 = the reported scale (~24 k campaign accounts, ~16.5 M campaign requests). */
  scale: number;
  seed: number;
  outDir: string;
  /** Write events.jsonl.gz instead of events.jsonl. */
  gzip?: boolean;
  /** Shallow overrides of the DEFAULTS table (e.g. `{ rawPromptFraction: 0.01 }`). */
  params?: Partial<SimParams>;
  onProgress?: (p: { day: number; days: number; events: number }) => void;
}

export interface SimulateResult {
  events: number;
  requests: number;
  accounts: number;
  files: { events: string; truth: string; params: string };
}

export async function simulate(opts: SimulateOptions): Promise<SimulateResult> {
  const p = effectiveParams(opts.scale, opts.seed, opts.params);
  await mkdir(opts.outDir, { recursive: true });
  // One run per folder: two would write the same `.partial` files, and the first to end
  // would rename a mix of both into place (review, 12-07).
  const release = takePidLock(join(opts.outDir, '.simulate.lock'), `simulate into ${opts.outDir}`);
  try {
    return await simulateInto(p, opts);
  } finally {
    release();
  }
}

async function simulateInto(p: EffectiveParams, opts: SimulateOptions): Promise<SimulateResult> {
  const files = {
    events: join(opts.outDir, opts.gzip ? 'events.jsonl.gz' : 'events.jsonl'),
    truth: join(opts.outDir, 'truth.csv'),
    params: join(opts.outDir, 'params.json'),
  };
  // The events file of the other form (plain or gzipped) is an older run's, removed at the end.
  const otherForm = join(opts.outDir, opts.gzip ? 'events.jsonl' : 'events.jsonl.gz');
  // A file's place taken by a directory fails the rename or the removal at the end: said
  // now, not after hours of generating.
  for (const f of [...Object.values(files), otherForm]) {
    if ((await stat(f).catch(() => undefined))?.isDirectory()) {
      throw Object.assign(new Error(`EISDIR: ${f} is a directory`), { code: 'EISDIR' });
    }
  }
  const pop = buildPopulation(p);
  // Written beside the files they replace and renamed at the end: a run that fails or is
  // stopped leaves the previous run's three files as they were, not new events beside an
  // older truth (but for the moment of the three renames, events first).
  const partial = (f: string) => `${f}.partial`;
  const file = createWriteStream(partial(files.events));
  let counts: { events: number; requests: number };
  try {
    counts = await generate(p, pop, file, opts);
    const truth = pop.accounts
      .map((a) => `${a.id},${a.group},${a.kind},${a.subgroup}`)
      .sort()
      .join('\n');
    await writeFile(partial(files.truth), `accountId,group,kind,subgroup\n${truth}\n`);
    await writeFile(partial(files.params), JSON.stringify(p, null, 2) + '\n');
    for (const f of [files.events, files.truth, files.params]) await rename(partial(f), f);
  } catch (err) {
    // Closed before the rm: a file still opening would be created after it (review, 12-07).
    file.destroy();
    await finished(file).catch(() => undefined);
    await Promise.all(Object.values(files).map((f) => rm(partial(f), { force: true })));
    throw err;
  }
  await rm(otherForm, { force: true });
  return { ...counts, accounts: pop.accounts.length, files };
}

/** The event stream, day by day, into `file` (gzipped when asked). */
async function generate(
  p: EffectiveParams,
  pop: ReturnType<typeof buildPopulation>,
  file: ReturnType<typeof createWriteStream>,
  opts: SimulateOptions,
): Promise<{ events: number; requests: number }> {
  const gen = new Generator(p, pop);
  const gz = opts.gzip ? createGzip({ level: 6 }) : null;
  const out = gz ?? file;
  // Settles once the file is written, and rejects on an error of either stream (a full
  // disk, say): it listens to both, so no 'error' goes unhandled and ends the process.
  // (A pipeline from an async generator held ~0.1 GB more at scale 0.1.)
  const done = gz ? pipeline(gz, file) : finished(file);
  let failure: { error: unknown } | undefined;
  done.catch((error: unknown) => (failure = { error }));
  const write = async (lines: string[]) => {
    for (let i = 0; i < lines.length; i += 4096) {
      if (failure) throw failure.error;
      const chunk = lines.slice(i, i + 4096).join('\n') + '\n';
      if (!out.write(chunk)) await Promise.race([once(out, 'drain'), done]);
    }
  };

  await write(gen.prologue());
  for (let day = 0; day < p.days; day++) {
    await write(gen.day(day));
    opts.onProgress?.({ day: day + 1, days: p.days, events: gen.events });
  }
  out.end();
  await done;
  return { events: gen.events, requests: gen.requests };
}
