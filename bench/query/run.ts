/**
 * Membership lookup benchmark (issue 4, point 9): GET /v1/accounts/{id}/cluster
 * with random existing ids over a published run of N accounts (default 1,000,000),
 * beside a bare Express route returning a constant, measured in the same run with
 * autocannon (64 connections). Target: >= 50 % of the bare route's requests per
 * second, p99 <= 25 ms.
 *
 * The run is seeded as cypher/README.md ("Linkage results") describes it
 * (LinkageRun, Cluster, MEMBER_OF, Pointer): the benchmark measures the read
 * path, not the linkage pipeline. The service runs in this process exactly as
 * main.ts assembles it (createApp), with API keys off and logging silent;
 * autocannon runs in a child process so it does not share the server's event loop.
 *
 *   npx tsx bench/query/run.ts [--accounts 1000000] [--duration 20] [--connections 64]
 *   (NEO4J_URI=bolt://… to use an existing, EMPTY database instead of a fresh local one)
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import express from 'express';
import neo4j from 'neo4j-driver';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/platform/config';
import { loadCypher } from '../../src/platform/cypher';
import { createLogger } from '../../src/platform/logger';
import { Metrics } from '../../src/platform/metrics';
import { migrate } from '../../src/platform/migrations';
import { Database, createDriver } from '../../src/platform/neo4j';
import { startLocalNeo4j } from '../../src/platform/neo4j-local';

const { values: args } = parseArgs({
  options: {
    accounts: { type: 'string', default: '1000000' },
    duration: { type: 'string', default: '20' },
    connections: { type: 'string', default: '64' },
    'cluster-share': { type: 'string', default: '0.3' },
    'cluster-size': { type: 'string', default: '10' },
    child: { type: 'string' },
  },
});

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

/** Child mode: run autocannon against a URL template and print JSON figures. */
async function childMain(spec: string): Promise<void> {
  const { url, random, accounts, duration, connections } = JSON.parse(spec) as {
    url: string;
    random: boolean;
    accounts: number;
    duration: number;
    connections: number;
  };
  const { default: autocannon } = await import('autocannon');
  const result = await autocannon({
    url,
    connections,
    duration,
    requests: random
      ? [
          {
            setupRequest: (req: { path: string }) => {
              req.path = `/v1/accounts/acc:${Math.floor(Math.random() * accounts)}/cluster`;
              return req;
            },
          },
        ]
      : undefined,
  });
  const figures: Figures = {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
  };
  process.stdout.write(JSON.stringify(figures));
}

function measure(spec: object): Promise<Figures> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, ['--child', JSON.stringify(spec)], {
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
      execArgv: process.execArgv,
    });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += String(d)));
    child.on('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(out) as Figures)
        : reject(new Error(`autocannon exit ${code}`)),
    );
  });
}

async function seed(db: Database, accounts: number, share: number, size: number): Promise<void> {
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
  console.log(
    `seeded ${accounts} accounts, ${clustered / size} clusters of ${size} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
}

function listen(app: express.Express): Promise<Server> {
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
  });
}

async function main(): Promise<void> {
  const accounts = Number(args.accounts);
  const duration = Number(args.duration);
  const connections = Number(args.connections);
  let uri = process.env.NEO4J_URI;
  let stopLocal: (() => Promise<void>) | undefined;
  let dataDir: string | undefined;
  if (!uri) {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'coterie-bench-query-'));
    const local = await startLocalNeo4j({ dataDir, port: 0, heap: '2g', pagecache: '1g' });
    uri = local.uri;
    stopLocal = () => local.stop();
  }
  const config = loadConfig({ NEO4J_URI: uri, LOG_LEVEL: 'silent' });
  const db = new Database(
    createDriver({ uri, user: config.NEO4J_USER, password: config.NEO4J_PASSWORD }),
  );
  const cypher = loadCypher();
  try {
    await migrate(db, cypher);
    await seed(db, accounts, Number(args['cluster-share']), Number(args['cluster-size']));

    const logger = createLogger('silent');
    const service = await listen(
      createApp({ config, logger, db, cypher, metrics: new Metrics(), keys: [] }),
    );
    const bare = express();
    bare.get('/bare', (_req, res) => {
      res.json({ ok: true });
    });
    const bareServer = await listen(bare);
    const port = (s: Server) => (s.address() as AddressInfo).port;

    // Warm-up: JIT, connection pool, page cache.
    await measure({
      url: `http://127.0.0.1:${port(service)}`,
      random: true,
      accounts,
      duration: 5,
      connections,
    });
    const bareFigures = await measure({
      url: `http://127.0.0.1:${port(bareServer)}/bare`,
      random: false,
      accounts,
      duration,
      connections,
    });
    const lookup = await measure({
      url: `http://127.0.0.1:${port(service)}`,
      random: true,
      accounts,
      duration,
      connections,
    });
    const ratio = lookup.rps / bareFigures.rps;
    console.log(
      JSON.stringify(
        {
          date: new Date().toISOString(),
          machine: `${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
          loadavg: os.loadavg().map((x) => Math.round(x * 10) / 10),
          accounts,
          connections,
          duration,
          bare: bareFigures,
          lookup,
          ratio: Math.round(ratio * 1000) / 1000,
          targets: { ratio: ratio >= 0.5, p99: lookup.p99 <= 25 },
        },
        null,
        2,
      ),
    );
    service.close();
    bareServer.close();
  } finally {
    await db.close();
    if (stopLocal) await stopLocal();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}

if (args.child) {
  childMain(args.child).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
