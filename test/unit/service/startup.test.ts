/**
 * The service process (src/main.ts) before it serves, without a Neo4j: what a bad
 * configuration prints, and what a stop signal does while it waits for Neo4j.
 */
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import { constants } from 'node:os';
import path from 'node:path';
import { childEnv } from '../../support/child-env';

const root = path.join(__dirname, '../../..');

/** src/main.ts as `node dist/src/main.js` runs it, with `env` (child-env.ts says why not this one's). */
function startService(env: Record<string, string>) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
    env: childEnv({ API_KEYS: '', LINKAGE_CRON: 'off', ...env }),
  });
}

describe('a configuration error', () => {
  it.each([
    ['NEO4J_URI', 'localhost:7687', 'Invalid configuration:\n  NEO4J_URI: a bolt:// or neo4j://'],
    ['PORT', 'http', 'Invalid configuration:\n  PORT: '],
    ['LINKAGE_ALLOWLIST', 'nope', 'LINKAGE_ALLOWLIST entry "nope" must be kind:value'],
    ['LINKAGE_WEIGHTS', '{"build":{"nope":1}}', 'Invalid LINKAGE_WEIGHTS:'],
    ['LINKAGE_CRON', 'every day', 'LINKAGE_CRON "every day" is not a cron pattern'],
    ['API_KEYS', 'ops:admin', 'API_KEYS entry 1 must be name:role:sha256hex'],
  ])('in %s stops start-up with its message alone, no stack trace', (key, value, message) => {
    const child = startService({ [key]: value });
    expect(child.status).toBe(1);
    expect(child.stderr.startsWith(message)).toBe(true);
    expect(child.stderr).not.toMatch(/^\s+at /m);
    expect(child.stdout).toBe('');
  });
});

describe('a Neo4j that does not answer', () => {
  it('stops start-up with one line naming the URI, no stack trace (review, 12-06)', () => {
    // Nothing listens on port 1: the connection is refused at once.
    const child = startService({ NEO4J_URI: 'bolt://127.0.0.1:1' });
    expect(child.status).toBe(1);
    expect(child.stderr).toMatch(/^cannot reach Neo4j at bolt:\/\/127\.0\.0\.1:1: /);
    expect(child.stderr).not.toMatch(/^\s+at /m);
  });
});

describe('a stop signal during start-up', () => {
  // A "Neo4j" that takes connections and never answers: start-up waits on it.
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  let uri = '';
  beforeAll(async () => {
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    uri = `bolt://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it.each(['SIGTERM', 'SIGINT', 'SIGHUP'] as const)(
    '%s stops it at once and exits 128 + the signal number, saying so',
    async (signal) => {
      const connected = sockets.size;
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: childEnv({ API_KEYS: '', LINKAGE_CRON: 'off', NEO4J_URI: uri, LOG_LEVEL: 'info' }),
      });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      const exited = new Promise<[number | null, string | null]>((resolve) =>
        child.on('exit', (code, sig) => resolve([code, sig])),
      );
      try {
        // Connecting: the driver's Bolt handshake waits for an answer that never comes.
        for (const until = Date.now() + 30_000; sockets.size === connected;) {
          if (child.exitCode !== null || Date.now() > until) {
            throw new Error(`never connected:\n${output}`);
          }
          await new Promise((r) => setTimeout(r, 20));
        }
        child.kill(signal);
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no exit within 10 s:\n${output}`)), 10_000);
        });
        const [code, sig] = await Promise.race([exited, late]).finally(() => clearTimeout(timer));
        expect([code, sig]).toEqual([128 + constants.signals[signal], null]);
        expect(output).toContain(`"signal":"${signal}"`);
        expect(output).toContain('"msg":"start-up stopped"');
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    },
    // Jest's 5 s default cut these short on a loaded box (load 6, 12-07): tsx compiles the
    // service first; the test's own waits (30 s to connect, 10 s to exit) bound it.
    60_000,
  );
});
