/** What benches that start the service (or Neo4j) beside them share. */
import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { COLLECTORS, type Collector, type LocalNeo4j } from '../src/platform/neo4j-local';

/** The built service, as `npm start` runs it. */
export const SERVICE_MAIN = path.join(__dirname, '..', 'dist', 'src', 'main.js');

/**
 * The built service in its own process on `port`, against a local Neo4j: no keys (the
 * local admin), no schedule; `logLevel` and `stdio` as the bench reads the service.
 */
export function spawnService(
  local: LocalNeo4j,
  port: number,
  logLevel: string,
  stdio: StdioOptions,
): ChildProcess {
  return spawn(process.execPath, [SERVICE_MAIN], {
    env: {
      ...process.env,
      NEO4J_URI: local.uri,
      NEO4J_USER: local.user,
      NEO4J_PASSWORD: local.password,
      PORT: String(port),
      API_KEYS: '',
      LINKAGE_CRON: 'off',
      LOG_LEVEL: logLevel,
    },
    stdio,
  });
}

/** A TCP port free on loopback right now (for a service started next). */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once the service at `url` answers /readyz with 200; fails after ~2 minutes. */
export async function waitReady(url: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const ready = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('the service did not become ready');
}

/** A `--collector` option's value, checked. */
export function collectorOption(value: string | undefined): Collector {
  const found = COLLECTORS.find((c) => c === value);
  if (found === undefined)
    throw new Error(`--collector must be ${COLLECTORS.join(' or ')}, got "${value}"`);
  return found;
}
