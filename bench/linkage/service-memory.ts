/**
 * Memory of a linkage run as the service runs it: the service process (`npm start`'s
 * `node dist/src/main.js`: HTTP, the membership index of the current run, the linkage
 * worker) and its Neo4j, both processes' VmRSS read together every 100 ms from before
 * the run is triggered over REST until the service has loaded the new run's index.
 * pipeline-bench.ts measures the runner alone; this adds what the service holds beside it.
 *
 *   npm run build && npx tsx bench/linkage/service-memory.ts --db DIR \
 *     [--heap 2g] [--pagecache 1g] [--collector g1|parallel]
 *
 * DIR is a database kept by `pipeline-bench.ts --keep-db` (used in place: the run
 * publishes into it), with a run published, so the service starts with an index.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { createInterface } from 'node:readline';
import { startLocalNeo4j } from '../../src/platform/neo4j-local';
import { statusKiB } from '../../src/platform/peak-rss';
import {
  collectorOption,
  freePort,
  SERVICE_MAIN as MAIN,
  spawnService,
  waitReady,
} from '../service';
import { benchArgs, runBench } from '../options';

const args = benchArgs(__filename, {
  db: { type: 'string' },
  heap: { type: 'string', default: '2g' },
  pagecache: { type: 'string', default: '1g' },
  collector: { type: 'string', default: 'g1' },
});
const SAMPLE_MS = 100;
const INDEX_WAIT_MS = 300_000;

const gib = (kib: number) => (kib / 1024 / 1024).toFixed(2);

interface RunRecord {
  status: string;
  phase: string | null;
  timings: Record<string, number>;
  stats: Record<string, unknown>;
}

const loadAvg = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

async function main(): Promise<void> {
  const db = args.db;
  if (!db || !existsSync(db)) throw new Error('--db DIR: a database kept by pipeline-bench.ts');
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
  const collector = collectorOption(args.collector);
  const local = await startLocalNeo4j({
    dataDir: db,
    port: 0,
    heap: args.heap,
    pagecache: args.pagecache,
    collector,
  });
  let service: ChildProcess | undefined;
  let sampler: NodeJS.Timeout | undefined;
  let poke: NodeJS.Timeout | undefined;
  let exited: Promise<unknown> = Promise.resolve();
  try {
    const port = await freePort();
    service = spawnService(local, port, 'info', ['ignore', 'pipe', 'inherit']);
    const child = service;
    const pid = child.pid!;
    // Any wait below fails at once, with the exit status, if the service dies.
    exited = new Promise((resolve) => child.once('exit', resolve));
    const died = exited.then((code) => {
      throw new Error(`the service exited (${String(code ?? child.signalCode)})`);
    });
    died.catch(() => undefined);
    const orDied = <T>(p: Promise<T>) => Promise.race([p, died]);
    const url = `http://127.0.0.1:${port}`;
    // Each 'membership index: loaded' line the service logs, counted.
    let indexLoads = 0;
    let indexWaiter: (() => void) | undefined;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.includes('membership index: loaded')) return;
      indexLoads++;
      indexWaiter?.();
    });
    const indexLoaded = (count: number) =>
      orDied(
        new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('no index loaded')), INDEX_WAIT_MS);
          const check = () => {
            if (indexLoads < count) return;
            clearTimeout(timer);
            indexWaiter = undefined;
            resolve();
          };
          indexWaiter = check;
          check();
        }),
      );
    console.log(
      `service memory: ${os.cpus().length} cores, heap ${args.heap}, page cache ${args.pagecache}, ` +
        `collector ${collector}, load ${loadAvg()}`,
    );
    // The index loads when a lookup first sees the current run (and again once it moved).
    const lookup = () => fetch(`${url}/v1/accounts/probe/cluster`).then((r) => r.arrayBuffer());
    await orDied(waitReady(url));
    await orDied(lookup());
    await indexLoaded(1);
    console.log(
      `index of the current run loaded: service ${gib(statusKiB(pid, 'VmRSS'))} GiB, ` +
        `Neo4j ${gib(statusKiB(local.pid, 'VmRSS'))} GiB`,
    );

    let phase = 'trigger';
    let peak = { sum: 0, service: 0, neo4j: 0, phase };
    sampler = setInterval(() => {
      const s = statusKiB(pid, 'VmRSS');
      const n = statusKiB(local.pid, 'VmRSS');
      if (s + n > peak.sum) peak = { sum: s + n, service: s, neo4j: n, phase };
    }, SAMPLE_MS);
    const started = Date.now();
    const res = await orDied(fetch(`${url}/v1/linkage/runs`, { method: 'POST' }));
    if (res.status !== 202)
      throw new Error(`POST /v1/linkage/runs: ${res.status} ${await res.text()}`);
    const { runId } = (await res.json()) as { runId: string };
    let run: RunRecord;
    for (;;) {
      await new Promise((r) => setTimeout(r, 250));
      run = await orDied(
        fetch(`${url}/v1/linkage/runs/${runId}`).then((r) => r.json() as Promise<RunRecord>),
      );
      phase = run.phase ?? phase;
      if (run.status !== 'running') break;
    }
    const runSeconds = (Date.now() - started) / 1000;
    if (run.status !== 'succeeded') throw new Error(`run ${runId} ${run.status}`);
    phase = 'index reload';
    poke = setInterval(() => void lookup().catch(() => undefined), 250);
    await indexLoaded(2);
    await new Promise((r) => setTimeout(r, 2000)); // the old index let go
    clearInterval(sampler);
    console.log(
      `run ${runId}: ${run.status} in ${runSeconds.toFixed(1)} s; timings ${JSON.stringify(run.timings)}`,
    );
    console.log(
      `stats: ${['accounts', 'links', 'edges', 'clusters', 'flagged', 'modularity']
        .map((k) => `${k} ${String(run.stats[k])}`)
        .join(', ')}`,
    );
    console.log(
      `peak RSS of both at once (VmRSS of each every ${SAMPLE_MS} ms): ${gib(peak.sum)} GiB ` +
        `(${peak.phase}: service ${gib(peak.service)}, Neo4j ${gib(peak.neo4j)})`,
    );
    console.log(
      `separate peaks (VmHWM): service ${gib(statusKiB(pid, 'VmHWM'))} GiB, ` +
        `Neo4j ${gib(statusKiB(local.pid, 'VmHWM'))} GiB; load ${loadAvg()}`,
    );
  } finally {
    clearInterval(sampler);
    clearInterval(poke);
    if (service && service.exitCode === null && service.signalCode === null) {
      service.kill('SIGTERM');
      await exited;
    }
    await local.stop();
  }
}

runBench(main);
