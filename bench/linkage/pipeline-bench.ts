/**
 * Linkage bench, the whole run through the real database (issue 3, point 11):
 *   a fresh embedded Neo4j (port 0, temp data dir, heap 6g, page cache 3g) + migrations
 *   → synthetic.ts's population loaded by load-population.ts in a child process
 *     (UNWIND … CREATE; timed apart and not counted; its memory never counts here)
 *   → ONE real linkage run (runLinkage: extract → build → detect → score → match → publish)
 *   → per-phase wall and CPU seconds (this process and the Neo4j JVM); the whole run as
 *     runLinkage's wall time (with the lease, worker start and gaps between phases, which
 *     the phases' sum leaves out, and the swap and housekeeping, which the run's own
 *     `total` leaves out), and everything but detection as that less detect;
 *     peak RSS of this process (maxRSS) and of the JVM (VmHWM, reset after the load), each
 *     one's largest 100 ms sample and its phase, and the two sampled together; run stats
 *   → the same account graph (extract + build again, same seed) written out and
 *     detect timed again beside igraph's multilevel and Leiden (igraph_ref.py) on it.
 *
 *   node --max-old-space-size=4096 --import tsx bench/linkage/pipeline-bench.ts \
 *     --accounts 1000000 [--seed 1] [--run-seed 42] [--keep-db DIR] [--no-igraph]
 *   node … bench/linkage/pipeline-bench.ts --accounts 1000000 --reuse-db DIR [--keep-results]
 *     (no load: a database kept by --keep-db, of the same --accounts and --seed and the
 *     same population sources, or it is refused; --unchecked-db for one built another way,
 *     as through ingest (README); its earlier linkage results are removed
 *     first, untimed, so the run is again a first run over the same data; with
 *     --keep-results they stay, and the run is a nightly one: it matches the previous
 *     run's clusters and prunes memberships past LINKAGE_KEEP_RUNS)
 *   --heap / --pagecache: the Neo4j JVM's (default 6g / 3g; the service ships 2g / 1g)
 *   --collector g1|parallel: the Neo4j JVM's garbage collector (default g1, as the service's)
 *   --jvm-arg ARG (repeatable): added to the Neo4j JVM's options, for A/Bs of its flags
 *   --in-process: compute (extract … match) on the bench's main thread instead of the
 *     worker thread the service uses (A/B for the event-loop stall figure)
 *   --warm: every page of the Cypher extract query read once (records dropped) before
 *     the run, untimed, so Neo4j's page cache is warm as in a long-running service
 *   The run reads config from the environment like the service: LINKAGE_EXTRACT_PACKED=false
 *   makes extract use the Cypher query instead of the launcher's procedure (the A/B in
 *   bench/RESULTS.md, "Extract through a procedure of the launcher").
 *
 * `--keep-db DIR` uses DIR (must not exist yet) as the data directory and keeps it, so
 * a query benchmark can start Neo4j on a published run. Figures also go to
 * bench/out/pipeline-<accounts>.json.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { build } from '../../src/linkage/build';
import { detect } from '../../src/linkage/detect';
import { extract } from '../../src/linkage/extract';
import { PHASES, runLinkage, type Phase } from '../../src/linkage/runner';
import { buildOverrides, parseWeightOverrides } from '../../src/linkage/settings';
import { loadConfig } from '../../src/platform/config';
import { notBefore, parseLinkMaxAge } from '../../src/linkage/link-age';
import { loadCypher, query } from '../../src/platform/cypher';
import { createLogger } from '../../src/platform/logger';
import { migrate } from '../../src/platform/migrations';
import { Database, createDriver, int, openDatabase } from '../../src/platform/neo4j';
import { startLocalNeo4j } from '../../src/platform/neo4j-local';
import { statusKiB } from '../../src/platform/peak-rss';
import { collectorOption } from '../service';
import { benchArgs, OptionError, runBench, wholeOption } from '../options';
import { sourceHash } from '../quality/source-hash';
import type { LoadResult } from './load-population';

const ROOT = path.resolve(__dirname, '../..');
const OUT = path.join(ROOT, 'bench/out');
const CLK_TCK = 100;

const gib = (kib: number): string => (kib / 2 ** 20).toFixed(2);
const s = (ms: number | undefined): string => ((ms ?? NaN) / 1000).toFixed(2);
const load = (): string =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

/** CPU seconds (user + sys) a process has used so far. */
function procCpuS(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime, stime
  } catch {
    return NaN;
  }
}

const selfCpuS = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/**
 * What a kept database holds, written beside it once its load has finished, so
 * --reuse-db runs only on the population the options name: a count of accounts alone
 * passed another seed's, or an older generator's, database (review).
 */
const POPULATION_FILE = 'coterie-population.json';
const POPULATION_SOURCES = ['bench/linkage/synthetic.ts', 'bench/linkage/load-population.ts'];

function population(accounts: number, seed: number): Record<string, unknown> {
  return { accounts, seed, sources: sourceHash(POPULATION_SOURCES) };
}

/** Throws unless `dataDir` was kept by a finished load of this population. */
function checkReusable(dataDir: string, accounts: number, seed: number): void {
  const file = path.join(dataDir, POPULATION_FILE);
  if (!existsSync(file)) {
    throw new OptionError(
      `--reuse-db ${dataDir}: no ${POPULATION_FILE} (its load did not finish, or predates the check); load it again with --keep-db`,
    );
  }
  const kept = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const wanted = population(accounts, seed);
  const differs = Object.keys(wanted).filter((k) => kept[k] !== wanted[k]);
  if (differs.length > 0) {
    throw new OptionError(
      `--reuse-db ${dataDir} holds another population (${differs
        .map((k) => `${k}: ${String(kept[k])}, wanted ${String(wanted[k])}`)
        .join('; ')}); load it again with --keep-db`,
    );
  }
}

function duMiB(dir: string): number {
  const out = spawnSync('du', ['-sk', dir], { encoding: 'utf8' }).stdout;
  return Math.round(Number(out.split(/\s+/)[0]) / 1024);
}

/** Runs load-population.ts as a child process; resolves to its JSON line. */
function loadInChild(
  uri: string,
  password: string,
  accounts: number,
  seed: number,
): Promise<LoadResult & { cpuS: number; peakRssKiB: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--max-old-space-size=6144',
        '--import',
        'tsx',
        path.join(__dirname, 'load-population.ts'),
        '--uri',
        uri,
        '--accounts',
        String(accounts),
        '--seed',
        String(seed),
      ],
      // the password in the environment, not argv
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        cwd: ROOT,
        env: { ...process.env, NEO4J_PASSWORD: password },
      },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`load-population exited with ${code}`));
      const line = out.trim().split('\n').pop() ?? '';
      resolve(JSON.parse(line) as LoadResult & { cpuS: number; peakRssKiB: number });
    });
  });
}

async function main(): Promise<void> {
  const args = benchArgs(__filename, {
    accounts: { type: 'string', default: '100000' },
    seed: { type: 'string', default: '1' },
    'run-seed': { type: 'string', default: '42' },
    heap: { type: 'string', default: '6g' },
    pagecache: { type: 'string', default: '3g' },
    collector: { type: 'string', default: 'g1' },
    'jvm-arg': { type: 'string', multiple: true, default: [] },
    'keep-db': { type: 'string' },
    'reuse-db': { type: 'string' },
    'unchecked-db': { type: 'boolean', default: false },
    'keep-results': { type: 'boolean', default: false },
    'no-igraph': { type: 'boolean', default: false },
    warm: { type: 'boolean', default: false },
    'in-process': { type: 'boolean', default: false },
  });
  const accounts = wholeOption('accounts', args.accounts);
  const seed = wholeOption('seed', args.seed, 0);
  const runSeed = wholeOption('run-seed', args['run-seed'], 0);
  mkdirSync(OUT, { recursive: true });
  const started = Date.now();
  const log = (msg: string): void =>
    console.log(`[${s(Date.now() - started).padStart(8)} s] ${msg}`);
  const figures: Record<string, unknown> = {
    date: new Date().toISOString(),
    accounts,
    seed,
    runSeed,
    machine: `${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}`,
    loadAtStart: load(),
  };
  console.log(
    `pipeline bench: ${accounts} accounts, population seed ${seed}, run seed ${runSeed}, ` +
      `${figures.machine as string}, heap ${args.heap}, page cache ${args.pagecache}, collector ${args.collector}, load ${load()}`,
  );

  let dataDir: string;
  const keep = args['keep-db'] ?? args['reuse-db'];
  const reuse = args['reuse-db'] !== undefined;
  if (reuse) {
    dataDir = path.resolve(args['reuse-db'] as string);
    if (!existsSync(dataDir)) throw new Error(`--reuse-db ${dataDir} does not exist`);
    if (!args['unchecked-db']) checkReusable(dataDir, accounts, seed);
  } else if (keep) {
    dataDir = path.resolve(keep);
    if (existsSync(dataDir)) throw new Error(`--keep-db ${dataDir} already exists`);
    mkdirSync(dataDir, { recursive: true });
  } else {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'coterie-bench-pipeline-'));
  }
  const local = await startLocalNeo4j({
    dataDir,
    port: 0,
    heap: args.heap,
    pagecache: args.pagecache,
    collector: collectorOption(args.collector),
    jvmArgs: args['jvm-arg'],
  });
  // With its connection options the runner computes in a worker thread, as the service
  // does; --in-process leaves them out, so compute runs on this thread (the A/B for
  // the event-loop delay below).
  const connection = { uri: local.uri, user: local.user, password: local.password };
  const db = args['in-process'] ? new Database(createDriver(connection)) : openDatabase(connection);
  log(`neo4j ${local.uri} (pid ${local.pid}), data ${dataDir}`);
  try {
    const cypher = loadCypher();
    await migrate(db, cypher);

    // 1. the population (not counted)
    let t = Date.now();
    if (reuse) {
      if (!args['keep-results']) {
        // CALL … IN TRANSACTIONS needs an auto-commit transaction: session.run.
        const session = db.driver.session();
        try {
          await session.run(
            'MATCH (c:Cluster) CALL (c) { DETACH DELETE c } IN TRANSACTIONS OF 2000 ROWS',
          );
          await session.run('MATCH (n) WHERE n:LinkageRun OR n:Pointer OR n:Lease DETACH DELETE n');
        } finally {
          await session.close();
        }
      }
      const n = await db.read(async (tx) => {
        const res = await tx.run('MATCH (a:Account) RETURN count(a) AS n');
        return Number(res.records[0]?.get('n') ?? 0);
      });
      if (n !== accounts) throw new Error(`--reuse-db holds ${n} accounts, not ${accounts}`);
      figures.reusedDb = dataDir;
      figures.populationChecked = !args['unchecked-db'];
      figures.keptResults = args['keep-results'];
      log(
        args['keep-results']
          ? `reusing ${dataDir}: ${n} accounts, earlier linkage results kept (a nightly run)`
          : `reusing ${dataDir}: ${n} accounts, earlier linkage results removed in ${s(Date.now() - t)} s`,
      );
    } else {
      const jvmLoadCpu = procCpuS(local.pid);
      const loaded = await loadInChild(local.uri, local.password, accounts, seed);
      const loadMs = Date.now() - t;
      if (keep) {
        writeFileSync(
          path.join(dataDir, POPULATION_FILE),
          `${JSON.stringify(population(accounts, seed))}\n`,
        );
      }
      figures.load = {
        ...loaded,
        wallMs: loadMs,
        jvmCpuS: procCpuS(local.pid) - jvmLoadCpu,
        jvmHwmKiB: statusKiB(local.pid, 'VmHWM'),
      };
      log(
        `load: ${loaded.accounts} accounts, ${loaded.links} synthetic links, ` +
          `${Object.values(loaded.relationships).reduce((a, b) => a + b, 0)} relationships ` +
          `${JSON.stringify(loaded.relationships)} in ${s(loadMs)} s ` +
          `(loader cpu ${loaded.cpuS.toFixed(1)} s, JVM cpu ${(procCpuS(local.pid) - jvmLoadCpu).toFixed(1)} s); ` +
          `planted campaigns ${loaded.planted.join('/')}; steps ${JSON.stringify(loaded.steps)}`,
      );
    }
    // The JVM's peak so far is the load's: reset it so VmHWM is the run's own peak.
    try {
      writeFileSync(`/proc/${local.pid}/clear_refs`, '5');
      figures.jvmHwmReset = true;
    } catch {
      figures.jvmHwmReset = false;
    }
    const jvmRssBefore = statusKiB(local.pid, 'VmRSS');

    // 2. the run
    const config = loadConfig({
      ...process.env,
      NEO4J_URI: local.uri,
      NEO4J_PASSWORD: local.password,
      LINKAGE_CRON: 'off',
    });
    if (args.warm) {
      // Every page of the extract query, records dropped at once: warms Neo4j, never
      // holds the population in this process (its peak RSS stays the run's own).
      t = Date.now();
      const jvm0 = procCpuS(local.pid);
      const pageQuery = query(cypher, 'linkage/read-accounts-page');
      let after = '';
      let read = 0;
      for (;;) {
        const page = await db.read(async (tx) => {
          const res = await tx.run(pageQuery, {
            after,
            limit: int(config.LINKAGE_EXTRACT_PAGE_SIZE),
            notBefore: notBefore(0, {}), // nothing aged: every link read
          });
          return { n: res.records.length, last: res.records[res.records.length - 1]?.get('id') };
        });
        read += page.n;
        if (page.n < config.LINKAGE_EXTRACT_PAGE_SIZE || page.last === undefined) break;
        after = String(page.last);
      }
      figures.warmMs = Date.now() - t;
      log(
        `warm-up: every extract page read and dropped (untimed): ${read} accounts in ` +
          `${s(Date.now() - t)} s, JVM cpu ${(procCpuS(local.pid) - jvm0).toFixed(1)} s`,
      );
    }
    const logger = createLogger('warn');
    const phaseCpu: Record<string, { node: number; jvm: number }> = {};
    let current: Phase | undefined;
    let mark = { node: selfCpuS(), jvm: procCpuS(local.pid) };
    const close = () => {
      const now = { node: selfCpuS(), jvm: procCpuS(local.pid) };
      if (current) phaseCpu[current] = { node: now.node - mark.node, jvm: now.jvm - mark.jvm };
      mark = now;
    };
    const loadBefore = load();
    const cpuBefore = { node: selfCpuS(), jvm: procCpuS(local.pid) };
    // How long this thread's event loop was held at a time during the run: what a
    // request to a service running the linkage would have waited for.
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    // The two peaks (maxRSS, VmHWM) need not coincide: their sum only bounds the
    // machine's peak. The sum of both processes' RSS, read together every 100 ms, is what
    // they held at once; each one's largest sample says in which phase it peaked.
    let togetherPeakKiB = 0;
    let togetherAt = { phase: '-', runnerKiB: 0, jvmKiB: 0 };
    const ownPeak = { runner: { kib: 0, phase: '-' }, jvm: { kib: 0, phase: '-' } };
    const sampler = setInterval(() => {
      const runnerKiB = statusKiB('self', 'VmRSS');
      const jvmKiB = statusKiB(local.pid, 'VmRSS');
      const phase = current ?? '-';
      if (runnerKiB + jvmKiB > togetherPeakKiB) {
        togetherPeakKiB = runnerKiB + jvmKiB;
        togetherAt = { phase, runnerKiB, jvmKiB };
      }
      if (runnerKiB > ownPeak.runner.kib) ownPeak.runner = { kib: runnerKiB, phase };
      if (jvmKiB > ownPeak.jvm.kib) ownPeak.jvm = { kib: jvmKiB, phase };
    }, 100);
    t = Date.now();
    const summary = await runLinkage(
      { config, logger, db, cypher },
      {
        trigger: 'cli',
        seed: runSeed,
        hooks: {
          beforePhase: (phase) => {
            close();
            current = phase;
            log(`run: ${phase}`);
          },
        },
      },
    );
    const runWall = Date.now() - t;
    clearInterval(sampler);
    loopDelay.disable();
    const eventLoop = {
      inWorker: !args['in-process'],
      maxMs: Math.round(loopDelay.max / 1e6),
      p99Ms: Math.round(loopDelay.percentile(99) / 1e6),
    };
    close();
    const loadAfter = load();
    if (summary.status !== 'succeeded') throw new Error(`linkage run failed: ${summary.error}`);
    const benchPeakKiB = process.resourceUsage().maxRSS;
    const jvmPeakKiB = statusKiB(local.pid, 'VmHWM');
    const cpu = {
      node: selfCpuS() - cpuBefore.node,
      jvm: procCpuS(local.pid) - cpuBefore.jvm,
    };
    const tm = summary.timings;
    const st = summary.stats;
    // The run's `total` stops before the swap (finalRecord): runLinkage's wall time is the
    // whole run, with the lease, the worker's start, gaps between phases, the swap and
    // housekeeping. Everything but detection is that less detect, not the phases' sum.
    const detectMs = tm.detect ?? 0;
    const restMs = runWall - detectMs;
    const restPerDetect = restMs / Math.max(1, detectMs);
    const phaseSumMs =
      (tm.extract ?? 0) + (tm.build ?? 0) + (tm.score ?? 0) + (tm.match ?? 0) + (tm.publish ?? 0);
    // Each process's own peak, summed: at least what both held at once, whatever the
    // 100 ms sampling missed (an upper bound, beside the sampled sum).
    const LIMIT_KIB = 3 * 2 ** 20;
    const peaksSumKiB = benchPeakKiB + jvmPeakKiB;
    figures.run = {
      runId: summary.runId,
      timings: tm,
      wallMs: runWall,
      wholeRunMs: runWall,
      notDetectMs: restMs,
      notDetectPerDetect: Number(restPerDetect.toFixed(2)),
      phaseSumNotDetectMs: phaseSumMs,
      phaseCpu,
      cpu,
      benchPeakKiB,
      jvmPeakKiB,
      peaksSumKiB,
      togetherPeakKiB,
      togetherAt,
      sampledPeak: ownPeak,
      jvmRssBeforeKiB: jvmRssBefore,
      loadBefore,
      loadAfter,
      eventLoop,
      stats: st,
    };
    console.log('');
    console.log(`run ${summary.runId}: load before ${loadBefore}, after ${loadAfter}`);
    console.log('phase      wall s   node cpu s   jvm cpu s');
    for (const p of PHASES)
      console.log(
        `${p.padEnd(9)} ${s(tm[p]).padStart(7)} ${(phaseCpu[p]?.node ?? NaN).toFixed(2).padStart(12)} ` +
          `${(phaseCpu[p]?.jvm ?? NaN).toFixed(2).padStart(11)}`,
      );
    console.log(
      `${'total'.padEnd(9)} ${s(tm.total).padStart(7)} ${cpu.node.toFixed(2).padStart(12)} ${cpu.jvm.toFixed(2).padStart(11)}` +
        `   (the run's own total: from the lease to just before the swap)`,
    );
    console.log(
      `whole run (runLinkage wall: lease, worker start, phases, gaps, the swap and housekeeping) ${s(runWall)} s`,
    );
    console.log(
      `everything but detection (whole run − detect) ${s(restMs)} s = ${restPerDetect.toFixed(1)}× detect ` +
        `(sum of phases extract+build+score+match+publish, the old figure: ${s(phaseSumMs)} s = ` +
        `${(phaseSumMs / Math.max(1, detectMs)).toFixed(1)}×)`,
    );
    console.log(
      `peak RSS: bench process ${gib(benchPeakKiB)} GiB (maxRSS), Neo4j JVM ${gib(jvmPeakKiB)} GiB ` +
        `(VmHWM${figures.jvmHwmReset ? ', reset after the load' : ', includes the load'}; ` +
        `RSS before the run ${gib(jvmRssBefore)} GiB)`,
    );
    console.log(
      `largest 100 ms sample of each: runner ${gib(ownPeak.runner.kib)} GiB (in ${ownPeak.runner.phase}), ` +
        `Neo4j ${gib(ownPeak.jvm.kib)} GiB (in ${ownPeak.jvm.phase})`,
    );
    console.log(
      `peak RSS of both at once (VmRSS of each, read together every 100 ms): ${gib(togetherPeakKiB)} GiB ` +
        `(in ${togetherAt.phase}: runner ${gib(togetherAt.runnerKiB)}, Neo4j ${gib(togetherAt.jvmKiB)})`,
    );
    console.log(
      `≤ 3 GiB together: sampled sum ${gib(togetherPeakKiB)} GiB, ${togetherPeakKiB <= LIMIT_KIB ? 'met' : 'missed'}; ` +
        `upper bound, runner maxRSS + Neo4j VmHWM ${gib(peaksSumKiB)} GiB, ` +
        `${peaksSumKiB > LIMIT_KIB ? 'exceeds' : 'within'} 3 GiB`,
    );
    console.log(
      `main event loop during the run (compute ${eventLoop.inWorker ? 'in a worker' : 'on this thread'}): ` +
        `longest stall ${eventLoop.maxMs} ms, p99 ${eventLoop.p99Ms} ms`,
    );
    const pick = (k: string) => st[k];
    console.log(
      `stats: accounts ${String(pick('accounts'))}, identifiers ${String(pick('identifiers'))}, ` +
        `links ${String(pick('links'))}, edges ${String(pick('edges'))}, communities ${String(pick('communities'))}, ` +
        `clusters ${String(pick('clusters'))}, flagged ${String(pick('flagged'))}, ` +
        `accountsInClusters ${String(pick('accountsInClusters'))}, modularity ${Number(pick('modularity')).toFixed(4)}`,
    );
    console.log(`extract stats ${JSON.stringify(st.extract)}`);
    console.log(`build stats ${JSON.stringify(st.build)}`);
    console.log(`detect stats ${JSON.stringify(st.detect)}`);
    console.log(`publish ${JSON.stringify(st.publish)}`);
    console.log('');

    // 3. the same graph again for igraph (not counted): extract + build with the run's seed.
    if (!args['no-igraph']) {
      t = Date.now();
      const again = await extract(db, cypher, {
        pageSize: config.LINKAGE_EXTRACT_PAGE_SIZE,
        configAllowlist: config.LINKAGE_ALLOWLIST,
        linkMaxAge: parseLinkMaxAge(config.LINKAGE_LINK_MAX_AGE_DAYS),
      });
      // The run's build options: its seed, and any LINKAGE_WEIGHTS or
      // LINKAGE_PROMPT_MAX_HAMMING it took from the environment.
      const graph = build(again.input, {
        ...buildOverrides(parseWeightOverrides(config.LINKAGE_WEIGHTS)),
        seed: runSeed,
        maxHamming: config.LINKAGE_PROMPT_MAX_HAMMING,
      });
      log(
        `re-extract + build for igraph: ${graph.source.length} edges (run: ${String(st.edges)}) in ${s(Date.now() - t)} s`,
      );
      // Same data, same seed, same code: anything else is not the run's graph.
      if (graph.source.length !== Number(st.edges) || graph.accountCount !== Number(st.accounts))
        throw new Error("the graph rebuilt for igraph is not the run's graph");
      const cpu0 = selfCpuS();
      t = Date.now();
      const detection = detect(graph, {
        seed: runSeed,
        resolution: config.LINKAGE_RESOLUTION,
        minClusterSize: config.LINKAGE_MIN_CLUSTER_SIZE,
      });
      const detectAgain = { wallS: (Date.now() - t) / 1000, cpuS: selfCpuS() - cpu0 };
      log(
        `detect again on it: ${detectAgain.wallS.toFixed(2)} s (cpu ${detectAgain.cpuS.toFixed(2)}), ` +
          `modularity ${detection.modularity.toFixed(4)}, partitionModularity ` +
          `${String(detection.stats.partitionModularity)}, ${detection.communityCount} communities; load ${load()}`,
      );
      const prefix = path.join(OUT, `pipeline-${accounts}`);
      writeFileSync(`${prefix}.src`, graph.source);
      writeFileSync(`${prefix}.dst`, graph.target);
      writeFileSync(`${prefix}.w`, graph.weight);
      const nodes = graph.accountCount;
      const py = spawnSync(
        '/usr/bin/python3',
        [path.join(__dirname, 'igraph_ref.py'), prefix, String(nodes), String(runSeed)],
        { encoding: 'utf8' },
      );
      if (py.status !== 0) {
        console.log('igraph failed:', py.stderr);
      } else {
        const r = JSON.parse(py.stdout) as Record<string, number>;
        const f = (x: number | undefined) => (x ?? NaN).toFixed(2);
        figures.igraph = r;
        figures.detectAgain = detectAgain;
        console.log(
          `igraph (same graph: ${r.nodes} nodes, ${r.edges} edges; load ${load()}): ` +
            `multilevel ${f(r.multilevel_s)} s (cpu ${f(r.multilevel_cpu_s)}) Q=${(r.multilevel_modularity ?? NaN).toFixed(4)} ` +
            `(${r.multilevel_communities} comms); leiden ${f(r.leiden_s)} s (cpu ${f(r.leiden_cpu_s)}) ` +
            `Q=${(r.leiden_modularity ?? NaN).toFixed(4)} (${r.leiden_communities} comms); peak RSS ${((r.peak_rss_mib ?? 0) / 1024).toFixed(2)} GiB`,
        );
        console.log(
          `detect: in the run ${s(tm.detect)} s (cpu ${(phaseCpu.detect?.node ?? NaN).toFixed(2)}), again ` +
            `${detectAgain.wallS.toFixed(2)} s (cpu ${detectAgain.cpuS.toFixed(2)}) vs igraph multilevel ` +
            `${f(r.multilevel_s)} s (cpu ${f(r.multilevel_cpu_s)}), leiden ${f(r.leiden_s)} s (cpu ${f(r.leiden_cpu_s)})`,
        );
      }
    }
    figures.dbSizeMiB = duMiB(dataDir);
    console.log(`database on disk: ${String(figures.dbSizeMiB)} MiB; load now ${load()}`);
  } finally {
    await db.close();
    await local.stop();
    if (keep) log(`kept the database in ${dataDir}`);
    else rmSync(dataDir, { recursive: true, force: true });
  }
  writeFileSync(
    path.join(OUT, `pipeline-${accounts}.json`),
    `${JSON.stringify(figures, null, 2)}\n`,
  );
}

runBench(main);
