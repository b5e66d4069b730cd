/**
 * Starts the real service for an integration test: a real Neo4j (one per test
 * file, see neo4j.ts), migrations, and the Express app on an ephemeral port.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Writable } from 'node:stream';
import { createApp } from '../../src/app';
import { activeRunsEnded, stopActiveRuns } from '../../src/linkage/runner';
import type { Context } from '../../src/context';
import { parseApiKeys } from '../../src/platform/auth';
import { loadConfig } from '../../src/platform/config';
import { loadCypher } from '../../src/platform/cypher';
import { createLogger } from '../../src/platform/logger';
import { Metrics } from '../../src/platform/metrics';
import { migrate } from '../../src/platform/migrations';
import { openDatabase } from '../../src/platform/neo4j';

export interface TestService {
  url: string;
  ctx: Context;
  logs: string[];
  stop(): Promise<void>;
}

/** neo4j: where and with what password; env: config keys as the service reads them. */
export async function startService(
  neo4j: { uri: string; password: string },
  env: Record<string, string> = {},
): Promise<TestService> {
  const config = loadConfig({
    NEO4J_URI: neo4j.uri,
    NEO4J_PASSWORD: neo4j.password,
    LOG_LEVEL: 'info',
    // Counted (the limiter runs) but never reached by a test's polling; the limit itself
    // is tested with a small one (auth.test.ts).
    API_RATE_LIMIT_PER_MINUTE: '1000000000',
    ...env,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const logger = createLogger(config.LOG_LEVEL, sink);
  const connection = { uri: neo4j.uri, user: config.NEO4J_USER, password: config.NEO4J_PASSWORD };
  const db = openDatabase(connection);
  const cypher = loadCypher();
  await migrate(db, cypher);
  const ctx: Context = {
    config,
    logger,
    db,
    cypher,
    metrics: new Metrics(),
    keys: parseApiKeys(config.API_KEYS),
  };
  const server: Server = await new Promise((resolve) => {
    const s = createApp(ctx).listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    ctx,
    logs,
    async stop() {
      // As main.ts's shutdown: this process's runs still going (a POST /v1/linkage/runs) are
      // stopped and waited for, or their worker and lease timer outlive the test file.
      await stopActiveRuns(ctx);
      // Close keep-alive and in-flight connections first: server.close() waits for them.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await activeRunsEnded();
      await db.close();
    },
  };
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}
