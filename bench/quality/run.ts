/**
 * Detection-quality benchmark (issue 5, points 2–4), through the real path:
 *   simulate (events.jsonl, truth.csv, params.json)
 *   → a fresh embedded Neo4j (port 0, temp data dir, heap/page cache from --heap/--pagecache), migrations
 *   → the bulk importer (Importer.run: validation, fingerprints, idempotency, checkpoints),
 *     or with --first-load the importer's offline mode (firstLoad, before Neo4j starts)
 *   → one real linkage run (runLinkage: extract → build → detect → score → match → publish)
 *   → the published clusters read back through the current-run pointer
 *   → only then truth.csv is read and the clusters scored (evaluate.ts).
 * Prints the quality table, time per phase, peak memory of this process and of the
 * Neo4j JVM (VmHWM), and the database size on disk; writes the figures as JSON and
 * Markdown to bench/out/quality-<scale>-<seed>-linkage-<LINKAGE_SEED>.{json,md}.
 *
 *   npm run bench:quality -- [--scale 0.1] [--seed 42] [--reuse-sim] [--keep-db] [--first-load]
 *                            [--batch-size N (default IMPORT_BATCH_SIZE; not with --first-load)]
 *                            [--heap SIZE] [--pagecache SIZE]   (sizes with k, m or g, as NEO4J_LOCAL_HEAP;
 *                            default the service's shipped NEO4J_LOCAL_HEAP / NEO4J_LOCAL_PAGECACHE)
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { firstLoad } from '../../src/ingest/first-load';
import { type ImportProgress, Importer } from '../../src/ingest/importer';
import { EventWriter } from '../../src/ingest/writer';
import { runLinkage } from '../../src/linkage/runner';
import type { Reason } from '../../src/linkage/types';
import { loadConfig } from '../../src/platform/config';
import { loadCypher } from '../../src/platform/cypher';
import { createLogger } from '../../src/platform/logger';
import { migrate } from '../../src/platform/migrations';
import { openDatabase, toNumber } from '../../src/platform/neo4j';
import { startLocalNeo4j } from '../../src/platform/neo4j-local';
import { peakRssMiB } from '../../src/platform/peak-rss';
import { runOptions, scaleOption, seedOption } from './args';
import { simulatedWorld } from './source-hash';
import {
  type EvalCluster,
  evaluate,
  formatEvaluation,
  pivotingGroups,
  readTruth,
} from './evaluate';
import { benchArgs, runBench } from '../options';

const ROOT = path.resolve(__dirname, '../..');
const OUT = path.join(ROOT, 'bench/out');

const vmHwmMiB = (pid: number | 'self'): number => peakRssMiB(pid) ?? 0;

function duMiB(dir: string): number {
  const out = execFileSync('du', ['-sk', dir], { encoding: 'utf8' });
  return Math.round(Number(out.split(/\s+/)[0]) / 1024);
}

const seconds = (ms: number): string => (ms / 1000).toFixed(1);

async function main(): Promise<void> {
  const args = benchArgs(__filename, {
    scale: { type: 'string', default: '0.1' },
    seed: { type: 'string', default: '42' },
    'reuse-sim': { type: 'boolean', default: false },
    'keep-db': { type: 'boolean', default: false },
    'first-load': { type: 'boolean', default: false },
    'batch-size': { type: 'string' },
    // Defaults in runOptions: the service's shipped sizes.
    heap: { type: 'string' },
    pagecache: { type: 'string' },
  });
  const scale = scaleOption(args.scale as string);
  const seed = seedOption('seed', args.seed as string);
  // The run's, as the service's: LINKAGE_SEED from the environment (the config below reads it too).
  const linkageSeed = loadConfig().LINKAGE_SEED;
  const { firstLoad: useFirstLoad, batchSize: batchOption, heap, pagecache } = runOptions(args);
  mkdirSync(OUT, { recursive: true });
  const simDir = path.join(OUT, `quality-sim-${scale}-${seed}`);
  const events = path.join(simDir, 'events.jsonl');
  const phases: Record<string, number> = {};
  const started = Date.now();
  const log = (msg: string): void =>
    console.log(`[${seconds(Date.now() - started).padStart(7)} s] ${msg}`);
  console.log(
    `quality bench: scale ${scale}, seed ${seed}, linkage seed ${linkageSeed}, ` +
      `Neo4j heap ${heap}, page cache ${pagecache}, ${os.cpus().length} cores, ` +
      `${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, load ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
  );

  // 1. simulate
  let t = Date.now();
  // Reused (--reuse-sim) only when made with this scale, seed and simulator code.
  const { simulated: r } = await simulatedWorld(
    simDir,
    { scale, seed },
    {
      reuse: args['reuse-sim'],
    },
  );
  if (!r) log(`simulate: reusing ${simDir}`);
  else {
    phases.simulate = Date.now() - t;
    log(`simulate: ${r.events} events, ${r.accounts} accounts in ${seconds(phases.simulate)} s`);
  }

  // 2. a fresh embedded Neo4j (built by the first load when asked for)
  const home = mkdtempSync(path.join(os.tmpdir(), 'coterie-bench-quality-'));
  const dataDir = path.join(home, 'db');
  const rejectFile = path.join(OUT, `quality-${scale}-${seed}.rejects.jsonl`);
  let lastLog = 0;
  const progress = (p: ImportProgress): void => {
    if (Date.now() - lastLog < 30_000) return;
    lastLog = Date.now();
    const elapsed = (Date.now() - t) / 1000;
    const share = `${((100 * p.bytesRead) / p.totalBytes).toFixed(0)} %`;
    // The first load counts events only once it has read the whole file.
    log(
      useFirstLoad
        ? `import: ${share} read, ${(p.bytesRead / 2 ** 20 / elapsed).toFixed(0)} MiB/s`
        : `import: ${p.written} events (${share}), ${((p.written + p.duplicates) / elapsed).toFixed(0)} events/s`,
    );
  };
  let importSummary: (ImportProgress & { seconds: number }) | undefined;
  if (useFirstLoad) {
    t = Date.now();
    importSummary = await firstLoad({
      file: events,
      dataDir,
      cypher: loadCypher(),
      heap,
      pagecache,
      rejectFile,
      onProgress: progress,
      onPhase: (phase) => log(`first load: ${phase}`),
    });
    phases.import = Date.now() - t;
    log(`first load: ${JSON.stringify(importSummary)}`);
  }
  t = Date.now();
  const local = await startLocalNeo4j({
    dataDir,
    port: 0,
    heap,
    pagecache,
  });
  // With its connection options the runner computes in a worker thread, as the service does.
  const db = openDatabase({ uri: local.uri, user: local.user, password: local.password });
  phases.neo4jStart = Date.now() - t;
  log(`neo4j: ${local.uri} (pid ${local.pid}), data ${dataDir}`);
  let neo4jPeak = 0;
  let dbSizeMiB = 0;
  let clusters: EvalCluster[] = [];
  let linkageTimings: Record<string, number> = {};
  let linkageStats: Record<string, unknown> = {};
  try {
    const cypher = loadCypher();
    await migrate(db, cypher);
    const config = loadConfig({
      ...process.env,
      NEO4J_URI: local.uri,
      NEO4J_PASSWORD: local.password,
    });
    const batchSize = batchOption ?? config.IMPORT_BATCH_SIZE;

    // 3. the bulk importer (unless the first load did it)
    if (!importSummary) {
      t = Date.now();
      importSummary = await new Importer(db, cypher, new EventWriter(db, cypher)).run({
        file: events,
        batchSize,
        partRows: config.IMPORT_PART_ROWS,
        rejectFile,
        onProgress: progress,
      });
      phases.import = Date.now() - t;
    }
    log(
      `import: ${importSummary.written} written, ${importSummary.duplicates} duplicates, ` +
        `${importSummary.rejected} rejected in ${seconds(phases.import ?? 0)} s`,
    );

    // 4. a real linkage run
    t = Date.now();
    const logger = createLogger('warn');
    // The service's linkage seed (LINKAGE_SEED), not the world's: a world's seed says
    // which world, and linkage is measured as it ships.
    const summary = await runLinkage({ config, logger, db, cypher }, { trigger: 'cli' });
    phases.linkage = Date.now() - t;
    if (summary.status !== 'succeeded') throw new Error(`linkage run failed: ${summary.error}`);
    linkageTimings = summary.timings;
    linkageStats = summary.stats;
    log(`linkage: run ${summary.runId} in ${seconds(phases.linkage)} s`);

    // 5. what readers see
    const query = readFileSync(path.join(__dirname, 'read-published-clusters.cypher'), 'utf8');
    clusters = await db.read(async (tx) => {
      const res = await tx.run(query);
      return res.records.map((r) => ({
        members: (r.get('members') as unknown[]).map(String),
        flagged: r.get('flagged') === true,
        risk: toNumber(r.get('risk')),
        reasons: JSON.parse(String(r.get('reasons') ?? '[]')) as Reason[],
      }));
    });
    neo4jPeak = vmHwmMiB(local.pid);
    dbSizeMiB = duMiB(dataDir);
  } finally {
    await db.close();
    await local.stop();
    if (!args['keep-db']) rmSync(home, { recursive: true, force: true });
    else log(`kept the database in ${dataDir}`);
  }

  // 6. only now: the truth
  const truth = readTruth(path.join(simDir, 'truth.csv'));
  const e = evaluate(truth, clusters, pivotingGroups(path.join(simDir, 'params.json')));
  const benchPeak = vmHwmMiB('self');
  const phaseRows: [string, number | undefined][] = [
    ['simulate', phases.simulate],
    [
      useFirstLoad ? 'import (first load → new store)' : 'import (bulk importer → Neo4j)',
      phases.import,
    ],
    ['linkage: extract', linkageTimings.extract],
    ['linkage: build', linkageTimings.build],
    ['linkage: detect', linkageTimings.detect],
    ['linkage: score', linkageTimings.score],
    ['linkage: match', linkageTimings.match],
    ['linkage: publish', linkageTimings.publish],
    ['linkage total (run record: to the swap)', linkageTimings.total],
    // what the sum below counts: the run's wall time, housekeeping after the swap included
    ['linkage (wall)', phases.linkage],
    ['neo4j start', phases.neo4jStart],
    [
      'import + neo4j start + linkage',
      (phases.import ?? 0) + (phases.neo4jStart ?? 0) + (phases.linkage ?? 0),
    ],
    ['whole bench (wall)', Date.now() - started],
  ];
  const lines: string[] = [];
  lines.push(
    `scale ${scale}, seed ${seed} (linkage seed ${linkageSeed}); ${e.accounts} accounts (${e.campaignAccounts} campaign)`,
  );
  if (importSummary)
    lines.push(
      `events imported: ${importSummary.written} (+${importSummary.duplicates} duplicates, ${importSummary.rejected} rejected)`,
    );
  lines.push('');
  lines.push(formatEvaluation(e));
  lines.push('');
  lines.push('| phase | seconds |');
  lines.push('| --- | ---: |');
  for (const [name, ms] of phaseRows)
    if (ms !== undefined) lines.push(`| ${name} | ${seconds(ms)} |`);
  lines.push('');
  lines.push('| resource | value |');
  lines.push('| --- | ---: |');
  lines.push(`| peak RSS, bench process (VmHWM) | ${benchPeak} MiB |`);
  lines.push(
    `| peak RSS, Neo4j JVM (VmHWM; heap ${heap}, page cache ${pagecache}) | ${neo4jPeak} MiB |`,
  );
  lines.push(`| database on disk after the run | ${dbSizeMiB} MiB |`);
  const s = linkageStats as Record<string, number>;
  lines.push(
    `| linkage input: accounts / identifiers / links / edges | ${s.accounts} / ${s.identifiers} / ${s.links} / ${s.edges} |`,
  );
  const md = lines.join('\n');
  console.log(`\n${md}`);
  if (e.unknownAccounts > 0) console.warn(`WARNING: ${e.unknownAccounts} accounts not in truth`);
  // Named by both seeds: runs of one world with other LINKAGE_SEEDs keep their own reports.
  const base = path.join(OUT, `quality-${scale}-${seed}-linkage-${linkageSeed}`);
  writeFileSync(`${base}.md`, `${md}\n`);
  writeFileSync(
    `${base}.json`,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        scale,
        seed,
        linkageSeed,
        load: os.loadavg(),
        phases,
        linkageTimings,
        linkageStats,
        import: importSummary,
        peakMiB: { bench: benchPeak, neo4j: neo4jPeak },
        dbSizeMiB,
        evaluation: e,
      },
      null,
      2,
    ),
  );
  log(`figures in ${base}.md and .json`);
}

runBench(main);
