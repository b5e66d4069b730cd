/**
 * Where the membership route's time goes (companion to run.ts): the same lookup
 * route, index loaded, behind growing parts of the app's middleware, beside a
 * constant route, 64 connections, autocannon in a child process, two rounds.
 * 100,000 accounts, 3,000 clusters of 10; request logs at info, into a file. A
 * one-off diagnostic, not a target check.
 *
 *   npx tsx bench/query/middleware.ts [--log-sync]
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import neo4j from 'neo4j-driver';
import pinoHttp from 'pino-http';
import { accountRoutes } from '../../src/accounts/routes';
import { createApp } from '../../src/app';
import { analystState } from '../../src/clusters/state';
import type { Context } from '../../src/context';
import { accessLog } from '../../src/platform/access-log';
import { authenticate } from '../../src/platform/auth';
import { loadConfig } from '../../src/platform/config';
import { loadCypher } from '../../src/platform/cypher';
import { jsonBody } from '../../src/platform/http';
import { createLogger, logDestination } from '../../src/platform/logger';
import { Metrics } from '../../src/platform/metrics';
import { migrate } from '../../src/platform/migrations';
import { Database, createDriver } from '../../src/platform/neo4j';
import { startLocalNeo4j } from '../../src/platform/neo4j-local';
import { createRng, randomInt } from '../../src/linkage/rng';

const N = 100_000;

async function child(url: string): Promise<void> {
  const { default: autocannon } = await import('autocannon');
  const rng = createRng(1); // the same ids for every variant
  const r = await autocannon({
    url,
    connections: 64,
    duration: 10,
    requests: [
      {
        setupRequest: (req: { path: string }) => {
          req.path = `/v1/accounts/acc:${randomInt(rng, N)}/cluster`;
          return req;
        },
      },
    ],
  });
  const figures = { rps: Math.round(r.requests.average), p50: r.latency.p50, p99: r.latency.p99 };
  process.stdout.write(JSON.stringify({ ...figures, non2xx: r.non2xx }));
}

function measure(url: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const c = fork(__filename, ['--child', url], {
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
      execArgv: process.execArgv,
    });
    let out = '';
    c.stdout?.on('data', (d: Buffer) => (out += String(d)));
    c.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`${code}`))));
  });
}

const listen = (app: express.Express): Promise<Server> =>
  new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
const urlOf = (s: Server) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`;

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'coterie-bench-middleware-'));
  const local = await startLocalNeo4j({ dataDir, port: 0, heap: '1g', pagecache: '512m' });
  const config = loadConfig({
    NEO4J_URI: local.uri,
    NEO4J_PASSWORD: local.password,
    LOG_LEVEL: 'info',
  });
  const db = new Database(
    createDriver({ uri: local.uri, user: local.user, password: local.password }),
  );
  const cypher = loadCypher();
  try {
    await migrate(db, cypher);
    await db.write((tx) =>
      tx.run('UNWIND range(0, $n - 1) AS i CREATE (:Account {id: "acc:" + i})', {
        n: neo4j.int(N),
      }),
    );
    await db.write((tx) =>
      tx.run(
        `UNWIND range(0, 2999) AS k
         CREATE (c:Cluster {key: 'r/c-' + k, id: 'c-' + k, runId: 'r', size: 10, risk: 0.5,
           flagged: false, reasons: '[]'})
         WITH c, k UNWIND range(k * 10, k * 10 + 9) AS i
         MATCH (a:Account {id: 'acc:' + i}) CREATE (a)-[:MEMBER_OF]->(c)`,
      ),
    );
    await db.write((tx) => tx.run("MERGE (p:Pointer {name: 'current'}) SET p.runId = 'r'"));
    // Request logs at info, into a file as the service writes stdout (buffered by default).
    const logger = createLogger(
      'info',
      logDestination(path.join(dataDir, 'log'), process.argv.includes('--log-sync')),
    );
    const ctx: Context = { config, logger, db, cypher, metrics: new Metrics(), keys: [] };
    const stack =
      (...mw: express.RequestHandler[]) =>
      () => {
        const app = express();
        for (const m of mw) app.use(m);
        app.use(accountRoutes(ctx));
        return app;
      };
    const variants: [string, () => express.Express][] = [
      [
        'constant route',
        () =>
          express().get('/v1/accounts/:id/cluster', (_req, res) => {
            res.json({ ok: true });
          }),
      ],
      ['route (auth off)', stack(authenticate([]))],
      ['+ json body parser', stack(authenticate([]), jsonBody(1e7))],
      ['+ metrics', stack(ctx.metrics.middleware(), authenticate([]), jsonBody(1e7))],
      ['+ pino-http (no metrics)', stack(pinoHttp({ logger }), authenticate([]), jsonBody(1e7))],
      [
        '+ access log (no metrics)',
        stack(
          accessLog(logger, () => false),
          authenticate([]),
          jsonBody(1e7),
        ),
      ],
      ['createApp (everything)', () => createApp(ctx)],
    ];
    const warm = await listen(variants[1]![1]());
    while (analystState(ctx).membershipIndex.status().state !== 'ready') {
      await fetch(`${urlOf(warm)}/v1/accounts/acc:1/cluster`);
      await new Promise((r) => setTimeout(r, 200));
    }
    warm.close();
    for (const round of [1, 2]) {
      for (const [name, make] of variants) {
        const server = await listen(make());
        if (round === 1 && name === 'constant route') await measure(urlOf(server)); // warm-up
        const figures = await measure(urlOf(server));
        const load = os.loadavg()[0]!.toFixed(2);
        console.log(`round ${round}  ${name.padEnd(26)} ${JSON.stringify(figures)}  load ${load}`);
        server.close();
      }
    }
  } finally {
    await db.close();
    await local.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') {
  child(process.argv[3] as string).catch((err: unknown) => {
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
