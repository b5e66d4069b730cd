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
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { startLocalNeo4j, type Collector } from '../../src/platform/neo4j-local';

const { values: args } = parseArgs({
  options: {
    db: { type: 'string' },
    heap: { type: 'string', default: '2g' },
    pagecache: { type: 'string', default: '1g' },
    collector: { type: 'string', default: 'g1' },
  },
});
const ROOT = path.resolve(__dirname, '../..');
const MAIN = path.join(ROOT, 'dist/src/main.js');
const SAMPLE_MS = 100;
const INDEX_WAIT_MS = 300_000;

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

function hwmKiB(pid: number): number {
  const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

const gib = (kib: number) => (kib / 1024 / 1024).toFixed(2);

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitReady(url: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const ok = await fetch(`${url}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('the service never became ready');
}

async function main(): Promise<void> {
  const db = args.db;
  if (!db || !existsSync(db)) throw new Error('--db DIR: a database kept by pipeline-bench.ts');
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
  const collector = args.collector as Collector;
  if (collector !== 'g1' && collector !== 'parallel') throw new Error('--collector g1|parallel');
  const local = await startLocalNeo4j({
    dataDir: db,
    port: 0,
    heap: args.heap,
    pagecache: args.pagecache,
    collector,
  });
  const port = await freePort();
  const service = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      NEO4J_URI: local.uri,
      NEO4J_USER: local.user,
      NEO4J_PASSWORD: local.password,
      PORT: String(port),
      API_KEYS: '',
      LINKAGE_CRON: 'off',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  // Each 'membership index: loaded' line the service logs, counted.
  let indexLoads = 0;
  let indexWaiter: (() => void) | undefined;
  createInterface({ input: service.stdout! }).on('line', (line) => {
    if (!line.includes('membership index: loaded')) return;
    indexLoads++;
    indexWaiter?.();
  });
  const indexLoaded = (count: number) =>
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
    });
  try {
    console.log(
      `service memory: ${os.cpus().length} cores, heap ${args.heap}, page cache ${args.pagecache}, ` +
        `collector ${collector}, load ${os
          .loadavg()
          .map((l) => l.toFixed(2))
          .join(' ')}`,
    );
    // The index loads when a lookup first sees the current run (and again once it moved).
    const lookup = () => fetch(`${url}/v1/accounts/probe/cluster`).then((r) => r.arrayBuffer());
    await waitReady(url);
    await lookup();
    await indexLoaded(1);
    const idle = { service: rssKiB(service.pid!), neo4j: rssKiB(local.pid) };
    console.log(
      `index of the current run loaded: service ${gib(idle.service)} GiB, Neo4j ${gib(idle.neo4j)} GiB`,
    );

    let phase = 'trigger';
    let peak = { sum: 0, service: 0, neo4j: 0, phase };
    const sampler = setInterval(() => {
      const s = rssKiB(service.pid!);
      const n = rssKiB(local.pid);
      if (s + n > peak.sum) peak = { sum: s + n, service: s, neo4j: n, phase };
    }, SAMPLE_MS);
    const started = Date.now();
    const res = await fetch(`${url}/v1/linkage/runs`, { method: 'POST' });
    if (res.status !== 202)
      throw new Error(`POST /v1/linkage/runs: ${res.status} ${await res.text()}`);
    const { runId } = (await res.json()) as { runId: string };
    let run: {
      status: string;
      phase: string | null;
      timings: Record<string, number>;
      stats: Record<string, unknown>;
    };
    for (;;) {
      await new Promise((r) => setTimeout(r, 250));
      run = (await (await fetch(`${url}/v1/linkage/runs/${runId}`)).json()) as typeof run;
      phase = run.phase ?? phase;
      if (run.status !== 'running') break;
    }
    const runSeconds = (Date.now() - started) / 1000;
    if (run.status !== 'succeeded') throw new Error(`run ${runId} ${run.status}`);
    phase = 'index reload';
    const poke = setInterval(() => void lookup().catch(() => undefined), 250);
    await indexLoaded(2).finally(() => clearInterval(poke));
    await new Promise((r) => setTimeout(r, 2000)); // the old index let go
    clearInterval(sampler);
    console.log(
      `run ${runId}: ${run.status} in ${runSeconds.toFixed(1)} s; timings ${JSON.stringify(run.timings)}`,
    );
    console.log(
      `stats: ${['accounts', 'links', 'edges', 'clusters', 'flagged', 'modularity'].map((k) => `${k} ${String(run.stats[k])}`).join(', ')}`,
    );
    console.log(
      `peak RSS of both at once (VmRSS of each every ${SAMPLE_MS} ms): ${gib(peak.sum)} GiB ` +
        `(${peak.phase}: service ${gib(peak.service)}, Neo4j ${gib(peak.neo4j)})`,
    );
    console.log(
      `separate peaks (VmHWM): service ${gib(hwmKiB(service.pid!))} GiB, Neo4j ${gib(hwmKiB(local.pid))} GiB; ` +
        `load ${os
          .loadavg()
          .map((l) => l.toFixed(2))
          .join(' ')}`,
    );
  } finally {
    service.kill('SIGTERM');
    await new Promise((r) => service.once('exit', r));
    await local.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
