/**
 * Fast tuning loop for detection quality (NOT the recorded figures, which come from
 * run.ts through the importer, Neo4j and the linkage runner): folds a simulated
 * event file into a LinkageInput in memory (fold.ts mirrors what extract reads),
 * runs build → detect → score, and only then reads truth.csv to evaluate.
 *
 *   npx tsx bench/quality/in-memory.ts [--dir /tmp/cq/sim-0.1-42] [--scale 0.1] [--seed 42]
 *     [--dump clusters.json]   (every cluster's signals and truth mix, for diagnosis)
 *
 * Simulates into --dir first when it holds no events.jsonl.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { deserialize, serialize } from 'node:v8';
import { build } from '../../src/linkage/build';
import { detect } from '../../src/linkage/detect';
import { score } from '../../src/linkage/score';
import type { LinkageInput, ScoredCluster } from '../../src/linkage/types';
import { simulate, type SimParams } from '../../src/simulate';
import {
  type Evaluation,
  type TruthRow,
  evaluate,
  formatEvaluation,
  pivotingGroups,
  readTruth,
} from './evaluate';
import { foldEvents } from './fold';

export interface InMemoryResult {
  input: LinkageInput;
  clusters: ScoredCluster[];
  truth: Map<string, TruthRow>;
  evaluation: Evaluation;
  graphStats: unknown;
  detectStats: unknown;
  times: string;
}

/**
 * Simulate into `dir` (unless it already holds events.jsonl), fold the events (cached
 * beside them), run build → detect → score, and only then read the truth and evaluate.
 */
export async function runInMemory(
  dir: string,
  scale: number,
  seed: number,
  params?: Partial<SimParams>,
): Promise<InMemoryResult> {
  const events = path.join(dir, 'events.jsonl');
  const lap = timer();
  if (!existsSync(events)) {
    await simulate({ scale, seed, outDir: dir, params });
    lap('simulate');
  }
  // The fold is the slow part (~1.5 min at scale 0.1): cached beside the events.
  const cache = path.join(dir, 'linkage-input.v8');
  let input: LinkageInput;
  if (existsSync(cache) && statSync(cache).mtimeMs > statSync(events).mtimeMs) {
    input = deserialize(readFileSync(cache)) as LinkageInput;
    lap('load cached input');
  } else {
    const folded = await foldEvents(events);
    input = folded.input;
    writeFileSync(cache, serialize(input));
    lap('fold');
    if (folded.rejected > 0) console.log(`events ${folded.events}, rejected ${folded.rejected}`);
  }
  const graph = build(input);
  lap('build');
  const detection = detect(graph);
  lap('detect');
  const clusters = score(input, detection);
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
  const { values: args } = parseArgs({
    options: {
      scale: { type: 'string', default: '0.1' },
      seed: { type: 'string', default: '42' },
      dir: { type: 'string' },
      dump: { type: 'string' },
    },
  });
  const scale = Number(args.scale);
  const seed = Number(args.seed);
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
  const ids = input.accounts.map((a) => a.id);

  if (args.dump) {
    const rows = clusters.map((c, i) => {
      const mix: Record<string, number> = {};
      for (const m of c.members) {
        const g = truth.get(ids[m] as string)?.group ?? 'unknown';
        mix[g] = (mix[g] ?? 0) + 1;
      }
      const subgroups: Record<string, number> = {};
      for (const m of c.members) {
        const t = truth.get(ids[m] as string);
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
    writeFileSync(args.dump, JSON.stringify(rows));
  }
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
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
