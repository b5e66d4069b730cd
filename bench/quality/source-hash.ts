/**
 * Content hashes of source files, to key the quality benches' caches on the code that
 * made them: a simulated world is reused only while the simulator's sources are the
 * same, a fold only while the fold's are. Without it a simulator change went unseen
 * whenever a variant's overrides were unchanged.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { simulate, type SimParams, type SimulateResult } from '../../src/simulate';

const ROOT = path.resolve(__dirname, '../..');

/**
 * What `simulate()` runs: its folder, the SimHash it fingerprints templates with, and the
 * event schema (with the text checks it imports) whose time limits overrides are held to.
 */
export const SIMULATOR_SOURCES = [
  'src/simulate',
  'src/ingest/simhash.ts',
  'src/ingest/event-schema.ts',
  'src/platform/unicode-text.ts',
  'src/platform/pid-lock.ts',
  'src/platform/stale-lock.ts',
];
/**
 * What the in-memory fold runs: fold.ts and the code it imports (a unit test checks the
 * list against the imports), with the identifier table whose class a cached fold gets.
 */
export const FOLD_SOURCES = [
  'bench/quality/fold.ts',
  'src/ingest',
  'src/linkage/identifier-table.ts',
  'src/linkage/link-age.ts',
  'src/linkage/types.ts',
  'src/platform/client-name.ts',
  'src/platform/unicode-text.ts',
];

/** Files under `rel`, but documentation (.md): a README edit makes nothing stale. */
function filesUnder(root: string, rel: string): string[] {
  const abs = path.join(root, rel);
  if (!statSync(abs).isDirectory()) return rel.endsWith('.md') ? [] : [rel];
  return readdirSync(abs).flatMap((name) => filesUnder(root, path.posix.join(rel, name)));
}

/** sha256 over the files (path and content) under `roots`, relative to `root` (the repository). */
export function sourceHash(roots: readonly string[], root = ROOT): string {
  const h = createHash('sha256');
  for (const file of roots.flatMap((r) => filesUnder(root, r)).sort()) {
    h.update(file)
      .update('\0')
      .update(readFileSync(path.join(root, file)))
      .update('\0');
  }
  return h.digest('hex');
}

/** The stamp beside a simulated world: written once its files are complete. */
export const WORLD_STAMP = 'simulation.json';

/**
 * The world of `scale`, `seed` and `params` in `dir`: kept when its stamp says it was made
 * with them by the simulator's current sources (and `reuse` allows), else simulated
 * again, after removing the stamp and the `derived` files (caches made from it).
 * Returns the stamp's key, and the simulation's result when it ran.
 */
export async function simulatedWorld(
  dir: string,
  world: { scale: number; seed: number; params?: Partial<SimParams> },
  opts: { reuse?: boolean; derived?: string[] } = {},
): Promise<{ key: string; simulated?: SimulateResult }> {
  const { scale, seed, params = {} } = world;
  const stamp = path.join(dir, WORLD_STAMP);
  const key = JSON.stringify({ scale, seed, params, simulator: sourceHash(SIMULATOR_SOURCES) });
  const made = existsSync(stamp) ? readFileSync(stamp, 'utf8') : null;
  if ((opts.reuse ?? true) && made === key && existsSync(path.join(dir, 'events.jsonl'))) {
    return { key };
  }
  for (const f of [WORLD_STAMP, ...(opts.derived ?? [])])
    rmSync(path.join(dir, f), { force: true });
  const simulated = await simulate({ scale, seed, outDir: dir, params });
  writeFileSync(stamp, key);
  return { key, simulated };
}
