/**
 * Fast tuning loop for detection quality (NOT the recorded figures, which come from
 * run.ts through the importer, Neo4j and the linkage runner): folds a simulated
 * event file into a LinkageInput in memory (fold.ts mirrors what extract reads),
 * runs build → detect → score, and only then reads truth.csv to evaluate.
 *
 *   npx tsx bench/quality/in-memory.ts [--dir /tmp/cq/sim-0.1-42] [--scale 0.1] [--seed 42]
 *     [--dump clusters.json]   (every cluster's signals and truth mix, for diagnosis)
 *
 * Simulates into --dir first unless it holds the events of this scale, seed and
 * overrides made by the simulator's current sources (simulation.json records them; a
 * directory without it is simulated again, over its events.jsonl, truth.csv and
 * params.json). The fold is cached beside them, keyed the same way on the fold's sources.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { build } from '../../src/linkage/build';
import { detect } from '../../src/linkage/detect';
import { IdentifierTable } from '../../src/linkage/identifier-table';
import { parseLinkMaxAge } from '../../src/linkage/link-age';
import { buildOverrides, scoreOverrides, type WeightOverrides } from '../../src/linkage/settings';
import { loadConfig } from '../../src/platform/config';
import { score } from '../../src/linkage/score';
import type { LinkageInput, ScoredCluster } from '../../src/linkage/types';
import type { SimParams } from '../../src/simulate';
import { scaleOption, seedOption } from './args';
import {
  type Evaluation,
  type TruthRow,
  evaluate,
  formatEvaluation,
  pivotingGroups,
  readTruth,
} from './evaluate';
import { foldEvents } from './fold';
import { FOLD_SOURCES, simulatedWorld, sourceHash } from './source-hash';
import { benchArgs, runBench } from '../options';

export interface InMemoryResult {
  input: LinkageInput;
  clusters: ScoredCluster[];
  truth: Map<string, TruthRow>;
  evaluation: Evaluation;
  graphStats: unknown;
  detectStats: unknown;
  times: string;
}

/** The stamp's text if `file` exists, else null. */
function stampOf(file: string): string | null {
  return existsSync(file) ? readFileSync(file, 'utf8') : null;
}

/**
 * Linkage settings the service reads that this loop does not (it runs the library's
 * defaults, weights from `--weights`): set, they were ignored without a word (review, 12-07).
 */
const NOT_HONOURED = [
  'RISK_THRESHOLD',
  'LINKAGE_PROMPT_MAX_HAMMING',
  'LINKAGE_RESOLUTION',
  'LINKAGE_MIN_CLUSTER_SIZE',
  'LINKAGE_SEED',
  'LINKAGE_WEIGHTS',
  'LINKAGE_ALLOWLIST',
];

export function refuseIgnoredSettings(env: NodeJS.ProcessEnv = process.env): void {
  const set = NOT_HONOURED.filter((k) => (env[k] ?? '').trim() !== '');
  if (set.length > 0)
    throw new Error(
      `the in-memory loop runs linkage's defaults and does not read ${set.join(', ')}; unset ${set.length > 1 ? 'them' : 'it'} (LINKAGE_WEIGHTS: pass --weights), or use bench/quality/run.ts`,
    );
}

/**
 * Simulate into `dir` (unless it already holds this world, made by the simulator's
 * current sources), fold the events (cached beside them, keyed on the fold's sources),
 * run build → detect → score, and only then read the truth and evaluate.
 */
export async function runInMemory(
  dir: string,
  scale: number,
  seed: number,
  params: Partial<SimParams> = {},
  weights: WeightOverrides = {},
): Promise<InMemoryResult> {
  refuseIgnoredSettings();
  const events = path.join(dir, 'events.jsonl');
  const lap = timer();
  // A stamp is written only once its files are complete, and removed before they change.
  const cache = path.join(dir, 'linkage-input.v8');
  const foldStamp = path.join(dir, 'linkage-input.json');
  const world = await simulatedWorld(
    dir,
    { scale, seed, params },
    { derived: ['linkage-input.json', 'linkage-input.v8'] },
  );
  if (world.simulated) lap('simulate');
  const simKey = world.key;
  // The fold is the slow part (~1.5 min at scale 0.1): cached beside the events.
  // Links age as the service's config says (its default unless LINKAGE_LINK_MAX_AGE_DAYS is set).
  const linkMaxAge = parseLinkMaxAge(loadConfig(process.env).LINKAGE_LINK_MAX_AGE_DAYS);
  const foldKey = JSON.stringify({
    events: simKey,
    fold: sourceHash(FOLD_SOURCES),
    linkMaxAge,
  });
  let input: LinkageInput;
  if (existsSync(cache) && stampOf(foldStamp) === foldKey) {
    input = deserialize(readFileSync(cache)) as LinkageInput;
    // v8's serializer keeps the table's columns but not its class: without this every
    // cached run built from no identifiers at all (0 clusters, found on 12-04)
    Object.setPrototypeOf(input.identifiers, IdentifierTable.prototype);
    if (input.identifiers.length === 0 || typeof input.identifiers.value(0) !== 'string')
      throw new Error(`${cache}: no identifiers after loading; remove it to fold again`);
    lap('load cached input');
  } else {
    rmSync(foldStamp, { force: true });
    const folded = await foldEvents(events, linkMaxAge);
    input = folded.input;
    writeFileSync(cache, serialize(input));
    writeFileSync(foldStamp, foldKey);
    lap('fold');
    if (folded.rejected > 0) console.log(`events ${folded.events}, rejected ${folded.rejected}`);
  }
  const graph = build(input, buildOverrides(weights));
  lap('build');
  const detection = detect(graph);
  lap('detect');
  const clusters = score(input, detection, scoreOverrides(weights));
  lap('score');

  // Only now: the truth.
  const truth = readTruth(path.join(dir, 'truth.csv'));
  const pivot = pivotingGroups(path.join(dir, 'params.json'));
  const ids = input.accounts.map((a) => a.id);
  const evalClusters = clusters.map((c) => ({
    members: c.members.map((m) => ids[m] as string),
    flagged: c.flagged,
    risk: c.risk,
    reasons: c.reasons,
  }));
  return {
    input,
    clusters,
    truth,
    evaluation: evaluate(truth, evalClusters, pivot),
    graphStats: graph.stats,
    detectStats: detection.stats,
    times: lap.summary(),
  };
}

async function main(): Promise<void> {
  const args = benchArgs(__filename, {
    scale: { type: 'string', default: '0.1' },
    seed: { type: 'string', default: '42' },
    dir: { type: 'string' },
    dump: { type: 'string' },
  });
  const scale = scaleOption(args.scale as string);
  const seed = seedOption('seed', args.seed as string);
  const dir = path.resolve(args.dir ?? `bench/out/quality-sim-${scale}-${seed}`);
  const { input, clusters, truth, evaluation, graphStats, detectStats, times } = await runInMemory(
    dir,
    scale,
    seed,
  );
  console.log(
    `accounts ${input.accounts.length}, identifiers ${input.identifiers.length}, links ${input.linkAccount.length}`,
  );
  console.log('build', JSON.stringify(graphStats));
  console.log('detect', JSON.stringify(detectStats));
  console.log(formatEvaluation(evaluation));
  console.log(`times: ${times}`);
  if (args.dump) dumpClusters({ input, clusters, truth }, args.dump);
}

/** Every cluster's size, risk, reasons, signals and truth mix, as JSON (for diagnosis). */
export function dumpClusters(
  r: Pick<InMemoryResult, 'input' | 'clusters' | 'truth'>,
  file: string,
): void {
  const ids = r.input.accounts.map((a) => a.id);
  const rows = r.clusters.map((c, i) => {
    const mix: Record<string, number> = {};
    const subgroups: Record<string, number> = {};
    for (const m of c.members) {
      const t = r.truth.get(ids[m] as string);
      const g = t?.group ?? 'unknown';
      mix[g] = (mix[g] ?? 0) + 1;
      const k = `${t?.group}/${t?.subgroup}`;
      subgroups[k] = (subgroups[k] ?? 0) + 1;
    }
    return {
      i,
      size: c.members.length,
      risk: Number(c.risk.toFixed(4)),
      flagged: c.flagged,
      mix,
      subgroups,
      reasons: c.reasons,
      signals: c.signals,
    };
  });
  writeFileSync(file, JSON.stringify(rows));
}

function timer() {
  let t = performance.now();
  const parts: string[] = [];
  const lap = (name: string): void => {
    const now = performance.now();
    parts.push(`${name} ${((now - t) / 1000).toFixed(1)} s`);
    t = now;
  };
  lap.summary = (): string => parts.join(', ');
  return lap;
}

if (require.main === module) {
  runBench(main);
}
