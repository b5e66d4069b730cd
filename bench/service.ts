/** What benches that start the service (or Neo4j) beside them share. */
import { createServer } from 'node:net';
import { COLLECTORS, type Collector } from '../src/platform/neo4j-local';

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
