/**
 * Membership lookup benchmark (issue 4, point 9): GET /v1/accounts/{id}/cluster
 * with random existing ids over a published run of N accounts (default 1,000,000),
 * beside a bare Express route returning a constant, measured in the same process
 * with autocannon (64 connections). Target: >= 50 % of the bare route's requests
 * per second, p99 <= 25 ms.
 *
 * The run is seeded as cypher/README.md ("Linkage results") describes it
 * (LinkageRun, Cluster, MEMBER_OF, Pointer), in batched write transactions: the
 * benchmark measures the read path, not the linkage pipeline. The service runs in
 * this process exactly as main.ts assembles it (createApp) and as it ships: one API
 * key configured and sent with every lookup (`--no-auth` turns keys off), request
 * logging at LOG_LEVEL `--log-level` (default info, the service's default), written
 * to a file as main.ts writes stdout (buffered; `--log-sync` for LOG_SYNC=true), and
 * the per-key rate limiter counting every request at a limit never reached
 * (`--no-rate-limit` turns it off, to measure its cost);
 * autocannon runs in a child
 * process so it does not share the server's event loop. Before measuring, the route is requested until the
 * replica's in-memory membership index of the run is loaded (src/clusters/
 * membership-index.ts; its status is the readiness signal), then both routes are
 * warmed for 5 s each, bare then lookup, so the first round follows a lookup run as
 * the later ones do; then `--rounds` rounds of (bare route, lookup route) are measured
 * and the median of each figure reported. The p99 target is judged on the p99 of every
 * measured lookup of all rounds pooled (the rounds' latency histograms merged), not on
 * a median of per-round p99s; the per-round p99s are printed too. `--no-index` measures
 * the Neo4j path instead. Exits 1 when any request failed or answered other than 2xx.
 * The ids each lookup run asks for are drawn from `--seed` (each round its own seed), so a
 * run asks for the same ids as another with the same options.
 *
 *   npx tsx bench/query/run.ts [--accounts 1000000] [--duration 20] [--connections 64] [--rounds 3] [--seed 1]
 *     [--log-level info] [--log-sync] [--no-auth] [--no-index] [--no-rate-limit]
 *   (NEO4J_URI=bolt://… to use an existing, EMPTY database instead of a fresh local one)
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { RawResult } from 'autocannon';
import express from 'express';
import neo4j from 'neo4j-driver';
import { createApp } from '../../src/app';
import { analystState } from '../../src/clusters/state';
import type { Context } from '../../src/context';
import { hashKey, parseApiKeys } from '../../src/platform/auth';
import { loadConfig } from '../../src/platform/config';
import { loadCypher } from '../../src/platform/cypher';
import { createLogger, logDestination } from '../../src/platform/logger';
import { Metrics } from '../../src/platform/metrics';
import { migrate } from '../../src/platform/migrations';
import { Database, createDriver } from '../../src/platform/neo4j';
import { startLocalNeo4j } from '../../src/platform/neo4j-local';
import { createRng, randomInt } from '../../src/linkage/rng';
import { benchArgs, shareOption, wholeOption } from '../options';

const args = benchArgs(__filename, {
  accounts: { type: 'string', default: '1000000' },
  duration: { type: 'string', default: '20' },
  connections: { type: 'string', default: '64' },
  'cluster-share': { type: 'string', default: '0.3' },
  'cluster-size': { type: 'string', default: '10' },
  rounds: { type: 'string', default: '3' },
  seed: { type: 'string', default: '1' },
  'no-index': { type: 'boolean', default: false },
  'log-level': { type: 'string', default: 'info' },
  'no-auth': { type: 'boolean', default: false },
  'log-sync': { type: 'boolean', default: false },
  'no-rate-limit': { type: 'boolean', default: false },
  child: { type: 'string' },
});

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

interface Measured {
  figures: Figures;
  /** autocannon's raw result (encoded histograms), to pool rounds with aggregateResult */
  raw: RawResult;
}

/** Child mode: run autocannon against a URL template and print JSON figures. */
async function childMain(spec: string): Promise<void> {
  const { url, random, seed, accounts, duration, connections, headers } = JSON.parse(spec) as {
    url: string;
    random: boolean;
    /** the ids asked for: the same sequence for the same seed */
    seed: number;
    accounts: number;
    duration: number;
    connections: number;
    headers: Record<string, string>;
  };
  const { default: autocannon } = await import('autocannon');
  const rng = createRng(seed);
  const raw = await autocannon({
    url,
    connections,
    duration,
    headers,
    skipAggregateResult: true,
    requests: random
      ? [
          {
            setupRequest: (req: { path: string }) => {
              req.path = `/v1/accounts/acc:${randomInt(rng, accounts)}/cluster`;
              return req;
            },
          },
        ]
      : undefined,
  });
  const result = autocannon.aggregateResult([raw], { url, connections });
  const figures: Figures = {
    // The mean of the per-second counts, as requests.average of an aggregated run.
    rps: raw.totalCompletedRequests / Math.max(1, raw.samples),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: raw.errors,
    non2xx: raw.non2xx,
  };
  const out: Measured = { figures, raw };
  process.stdout.write(JSON.stringify(out));
}

function measure(spec: object): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, ['--child', JSON.stringify(spec)], {
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
      execArgv: process.execArgv,
    });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += String(d)));
    child.on('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(out) as Measured)
        : reject(new Error(`autocannon exit ${code}`)),
    );
  });
}

/**
 * Accounts acc:0 … acc:N-1; the first `share` of them in clusters of `size`
 * (acc:0-9 in c-0, …); one succeeded LinkageRun; the Pointer on it. Batches of
 * 50,000 accounts (and their clusters) per write transaction; memberships are
 * matched through the unique Account(id) index from the migrations.
 */
async function seedGraph(
  db: Database,
  accounts: number,
  share: number,
  size: number,
): Promise<void> {
  const batch = 50_000;
  const clustered = Math.floor((accounts * share) / size) * size;
  const started = Date.now();
  for (let from = 0; from < accounts; from += batch) {
    const to = Math.min(accounts, from + batch);
    await db.write((tx) =>
      tx.run('UNWIND range($from, $to - 1) AS i CREATE (:Account {id: "acc:" + i, requests: 1})', {
        from: neo4j.int(from),
        to: neo4j.int(to),
      }),
    );
  }
  const accountsDone = Date.now();
  await db.write((tx) =>
    tx.run(
      `CREATE (:LinkageRun {id: 'bench-run', status: 'succeeded', phase: 'done', progress: 1.0,
         trigger: 'cli', seed: 1, startedAt: timestamp(), finishedAt: timestamp()})`,
    ),
  );
  for (let from = 0; from < clustered; from += batch) {
    const to = Math.min(clustered, from + batch);
    await db.write((tx) =>
      tx.run(
        `UNWIND range($from / $size, ($to - 1) / $size) AS k
         MATCH (r:LinkageRun {id: 'bench-run'})
         CREATE (r)-[:PRODUCED]->(c:Cluster {key: 'bench-run/c-' + k, id: 'c-' + k, runId: 'bench-run',
           risk: toFloat(k % 100) / 100, flagged: k % 100 >= 70, size: $size, rank: k + 1,
           reasons: '[{"code":"shared_payment","value":0.8}]', signals: '{}', sharedIdentifiers: '[]',
           change: 'new', from: []})
         WITH c, k
         UNWIND range(k * $size, k * $size + $size - 1) AS i
         MATCH (a:Account {id: 'acc:' + i})
         CREATE (a)-[:MEMBER_OF]->(c)`,
        { from: neo4j.int(from), to: neo4j.int(to), size: neo4j.int(size) },
      ),
    );
  }
  await db.write((tx) => tx.run("MERGE (p:Pointer {name: 'current'}) SET p.runId = 'bench-run'"));
  const s = (ms: number) => (ms / 1000).toFixed(1);
  console.log(
    `seeded ${accounts} accounts (${s(accountsDone - started)} s), ${clustered / size} clusters of ${size} ` +
      `with memberships (${s(Date.now() - accountsDone)} s)`,
  );
}

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const mib = (bytes: number) => Math.round(bytes / 2 ** 20);
const load = () => os.loadavg().map((x) => Math.round(x * 100) / 100);

function listen(app: express.Express): Promise<Server> {
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
  });
}

const BENCH_KEY = 'bench-analyst-key';

async function main(): Promise<void> {
  let logFile: string | undefined;
  const accounts = wholeOption('accounts', args.accounts);
  const duration = wholeOption('duration', args.duration);
  const connections = wholeOption('connections', args.connections);
  const rounds = wholeOption('rounds', args.rounds);
  const seed = wholeOption('seed', args.seed, 0);
  const clusterShare = shareOption('cluster-share', args['cluster-share']);
  const clusterSize = wholeOption('cluster-size', args['cluster-size'], 2);
  const loadAtStart = load();
  let uri = process.env.NEO4J_URI;
  let password = process.env.NEO4J_PASSWORD ?? '';
  let stopLocal: (() => Promise<unknown>) | undefined;
  let dataDir: string | undefined;
  if (!uri) {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'coterie-bench-query-'));
    const local = await startLocalNeo4j({ dataDir, port: 0, heap: '2g', pagecache: '1g' });
    uri = local.uri;
    password = local.password;
    stopLocal = () => local.stop();
  }
  const auth: Record<string, string> = args['no-auth']
    ? {}
    : { authorization: `Bearer ${BENCH_KEY}` };
  const config = loadConfig({
    NEO4J_URI: uri,
    NEO4J_PASSWORD: password,
    LOG_LEVEL: args['log-level'],
    LOG_SYNC: String(args['log-sync']),
    API_KEYS: args['no-auth'] ? '' : `bench:analyst:${hashKey(BENCH_KEY)}`,
    // The limiter counts every request (its cost is measured) but never refuses one.
    API_RATE_LIMIT_PER_MINUTE: args['no-rate-limit'] ? '0' : '1000000000',
    ...(args['no-index'] ? { MEMBERSHIP_INDEX_MAX_ACCOUNTS: '0' } : {}),
  });
  const db = new Database(
    createDriver({ uri, user: config.NEO4J_USER, password: config.NEO4J_PASSWORD }),
  );
  const cypher = loadCypher();
  try {
    await migrate(db, cypher);
    await seedGraph(db, accounts, clusterShare, clusterSize);

    // The service's log, as main.ts makes it (LOG_SYNC decides buffering), into a file.
    logFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'coterie-bench-query-log-')), 'log');
    const logger = createLogger(config.LOG_LEVEL, logDestination(logFile, config.LOG_SYNC));
    const keys = parseApiKeys(config.API_KEYS);
    const ctx: Context = { config, logger, db, cypher, metrics: new Metrics(), keys };
    const service = await listen(createApp(ctx));
    const bare = express();
    bare.get('/bare', (_req, res) => {
      res.json({ ok: true });
    });
    const bareServer = await listen(bare);
    const port = (s: Server) => (s.address() as AddressInfo).port;
    const serviceUrl = `http://127.0.0.1:${port(service)}`;
    const rssBefore = process.memoryUsage().rss;

    // Readiness: request the real route (the first request reads the pointer and
    // starts the index load) until the replica's index of the run is loaded.
    const index = analystState(ctx).membershipIndex;
    const indexStarted = Date.now();
    let indexMs: number | null = null;
    if (!args['no-index']) {
      for (;;) {
        const res = await fetch(`${serviceUrl}/v1/accounts/acc:0/cluster`, { headers: auth });
        if (res.status !== 200) throw new Error(`lookup answered ${res.status}`);
        const status = index.status();
        if (status.state === 'ready') break;
        if (status.state !== 'loading') throw new Error(`index: ${JSON.stringify(status)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      indexMs = Date.now() - indexStarted;
      console.log(
        `index loaded in ${(indexMs / 1000).toFixed(1)} s: ${JSON.stringify(index.status())}`,
      );
    }
    const memoryLoaded = process.memoryUsage();

    const lookupSpec = {
      url: serviceUrl,
      random: true,
      seed, // each run below its own: seed + 1000 × round + 1
      accounts,
      duration,
      connections,
      headers: auth,
    };
    const bareSpec = {
      ...lookupSpec,
      url: `http://127.0.0.1:${port(bareServer)}/bare`,
      random: false,
      headers: {},
    };
    // Warm-up of both routes alike (JIT, connection pool, page cache): the bare route's
    // first round would otherwise run colder than the lookup's.
    await measure({ ...bareSpec, duration: 5 });
    await measure({ ...lookupSpec, duration: 5, seed: seed + 1_000_000 });
    const bareRuns: Figures[] = [];
    const lookupRuns: Figures[] = [];
    const lookupRaw: RawResult[] = [];
    const loadPerRound: number[][] = [];
    for (let round = 0; round < rounds; round++) {
      bareRuns.push((await measure(bareSpec)).figures);
      const lookup = await measure({ ...lookupSpec, seed: seed + 1000 * round + 1 });
      lookupRuns.push(lookup.figures);
      lookupRaw.push(lookup.raw);
      loadPerRound.push(load());
      console.log(
        `round ${round + 1}: bare ${Math.round(bareRuns[round]!.rps)} rps, lookup ${Math.round(lookupRuns[round]!.rps)} rps ` +
          `p99 ${lookupRuns[round]!.p99} ms, load ${loadPerRound[round]!.join(' ')}`,
      );
    }
    const med = (runs: Figures[]): Figures => ({
      rps: Math.round(median(runs.map((r) => r.rps))),
      p50: median(runs.map((r) => r.p50)),
      p99: median(runs.map((r) => r.p99)),
      errors: runs.reduce((n, r) => n + r.errors, 0),
      non2xx: runs.reduce((n, r) => n + r.non2xx, 0),
    });
    const bareMedian = med(bareRuns);
    const lookupMedian = med(lookupRuns);
    const ratio = median(lookupRuns.map((r, i) => r.rps / bareRuns[i]!.rps));
    const worstP99 = Math.max(...lookupRuns.map((r) => r.p99));
    // Every measured lookup of all rounds in one histogram: the p99 the target is judged on.
    const { default: autocannon } = await import('autocannon');
    const pooled = autocannon.aggregateResult(lookupRaw, { url: serviceUrl, connections }).latency;
    const p99Met = pooled.p99 <= 25;
    console.log(
      JSON.stringify(
        {
          date: new Date().toISOString(),
          machine: `${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
          loadavg: { start: loadAtStart, perRound: loadPerRound, end: load() },
          accounts,
          connections,
          duration,
          rounds,
          index: args['no-index'] ? 'off' : { ...index.status(), loadMs: indexMs },
          service: {
            logLevel: config.LOG_LEVEL,
            auth: keys.length > 0,
            logBytes: statSync(logFile).size,
          },
          memoryMiB: {
            rssBeforeIndex: mib(rssBefore),
            rssIndexLoaded: mib(memoryLoaded.rss),
            heapUsedIndexLoaded: mib(memoryLoaded.heapUsed),
            peakRss: Math.round(process.resourceUsage().maxRSS / 1024),
          },
          bare: bareMedian,
          lookup: lookupMedian,
          lookupWorstP99: worstP99,
          lookupPooled: { requests: pooled.totalCount, p50: pooled.p50, p99: pooled.p99 },
          ratio: Math.round(ratio * 1000) / 1000,
          targets: { ratio: ratio >= 0.5, p99: p99Met, p99JudgedOn: 'pooled' },
          rawRounds: { bare: bareRuns, lookup: lookupRuns },
        },
        null,
        2,
      ),
    );
    console.log(
      `lookup p99 ≤ 25 ms, judged on all ${pooled.totalCount} measured lookups of the ${rounds} rounds pooled: ` +
        `${pooled.p99} ms, ${p99Met ? 'met' : 'missed'} (per round ${lookupRuns.map((r) => r.p99).join(' / ')} ms, ` +
        `median ${lookupMedian.p99}, worst ${worstP99}; not the verdict)`,
    );
    service.close();
    bareServer.close();
    const failed = [...bareRuns, ...lookupRuns].reduce((n, r) => n + r.errors + r.non2xx, 0);
    if (failed > 0) {
      console.error(
        `${failed} requests failed or answered other than 2xx: the figures do not count`,
      );
      process.exitCode = 1;
    }
  } finally {
    await db.close();
    if (stopLocal) await stopLocal();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (logFile) rmSync(path.dirname(logFile), { recursive: true, force: true });
  }
}

if (args.child) {
  childMain(args.child).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().then(
    () => process.exit(process.exitCode ?? 0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
