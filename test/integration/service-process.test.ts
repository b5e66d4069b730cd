/**
 * The service as `npm start` runs it: its own process with the embedded Neo4j it starts.
 * Ctrl-C in a terminal (SIGINT to the whole foreground process group) during a linkage
 * run leaves nothing stuck: the run is not left running and the lease is free. And if the
 * embedded Neo4j dies under it, the service says so and exits instead of answering
 * every request with a slow 503.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { BOLT_PASSWORD_FILE, BOLT_URI_FILE, startLocalNeo4j } from '../../src/platform/neo4j-local';
import { childEnv } from '../support/child-env';
import { pidAlive, waitForBlocked } from '../support/neo4j';

jest.setTimeout(300_000);

const root = path.resolve(__dirname, '../..');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coterie-service-process-'));
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

interface Service {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

/**
 * Starts src/main.ts in a process group of its own, as a shell would for `npm start`: one
 * node process, as `node dist/src/main.js` is. Not through tsx's CLI, which wraps it in a
 * second process that relays signals and SIGKILLs the service when it does not hear back
 * within 30 ms (seen under load as exit 130 with no shutdown at all).
 */
async function startServiceProcess(
  env: Record<string, string> = {},
  entry = SOURCE_ENTRY,
): Promise<Service> {
  const svc = spawnServiceProcess(env, entry);
  const { child, output } = svc;
  let url: string | undefined;
  for (const until = Date.now() + 180_000; ;) {
    if (child.exitCode !== null) throw new Error(`service exited early:\n${output()}`);
    if (Date.now() > until) throw new Error(`service not ready:\n${output()}`);
    url ??= listeningUrl(output());
    if (url === undefined) {
      await new Promise((r) => setTimeout(r, 250));
      continue;
    }
    const ready = await fetch(`${url}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) break;
    if (Date.now() > until) throw new Error(`service not ready:\n${output()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return { ...svc, url };
}

/** How the tests run the service: src/ through tsx. */
const SOURCE_ENTRY = ['--import', 'tsx', 'src/main.ts'];

/** The service process, just started (`env` over the defaults below). */
function spawnServiceProcess(
  env: Record<string, string> = {},
  entry = SOURCE_ENTRY,
): Omit<Service, 'url'> {
  const child = spawn(process.execPath, entry, {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: childEnv({
      NEO4J_URI: '',
      API_KEYS: '',
      // The system picks the port, the service logs it: a port chosen here and bound
      // only after Neo4j's start could be taken meanwhile by another test file.
      PORT: '0',
      NEO4J_LOCAL_DATA_DIR: dataDir,
      NEO4J_LOCAL_BOLT_PORT: '0',
      NEO4J_LOCAL_HEAP: '512m',
      NEO4J_LOCAL_PAGECACHE: '128m',
      LINKAGE_CRON: 'off',
      LOG_LEVEL: 'info',
      ...env,
    }),
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** The address in the service's "coterie is listening" log line, once it is there. */
function listeningUrl(output: string): string | undefined {
  for (const line of output.split('\n').slice(0, -1)) {
    if (!line.includes('coterie is listening')) continue;
    const { port } = JSON.parse(line) as { port: number };
    return `http://127.0.0.1:${port}`;
  }
  return undefined;
}

/**
 * The embedded Neo4j's ready line: pid and Bolt URI (stdout is buffered: up to a second
 * late), and its password, from the file README points a second process at.
 */
async function neo4jReady(svc: Service): Promise<{ pid: number; uri: string; password: string }> {
  for (const until = Date.now() + 30_000; ;) {
    const m = /neo4j-local\[(\d+)\]: ready at (\S+)/.exec(svc.output());
    const passwordFile = path.join(dataDir, BOLT_PASSWORD_FILE);
    if (m && fs.existsSync(passwordFile)) {
      const password = fs.readFileSync(passwordFile, 'utf8').trim();
      return { pid: Number(m[1]), uri: m[2] as string, password };
    }
    if (Date.now() > until) throw new Error(`no neo4j-local ready line in:\n${svc.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Which of bolt.uri / bolt.password are in the data folder `dir`. */
function boltFilesIn(dir: string): string[] {
  return [BOLT_URI_FILE, BOLT_PASSWORD_FILE].filter((f) => fs.existsSync(path.join(dir, f)));
}

/** Waits (30 s at most) for a line of the service's output containing `text`. */
async function outputLine(svc: Service, text: string): Promise<void> {
  for (const until = Date.now() + 30_000; !svc.output().includes(text);) {
    if (Date.now() > until) throw new Error(`no "${text}" line:\n${svc.output()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

it('the built service (`npm start`: node dist/src/main.js) runs its worker threads from dist/', async () => {
  // Review, 12-06: every other test runs src/ through tsx, so the built branch of
  // workerEntry (`<name>.js` beside the caller), the one `npm start`, the CLI and the
  // Docker image take, never ran. Built here as `npm run build` builds (incremental).
  execFileSync(
    process.execPath,
    [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: root,
      stdio: 'pipe',
    },
  );
  // A folder of its own: the tests below expect a database no run has published into.
  const own = fs.mkdtempSync(path.join(os.tmpdir(), 'coterie-service-built-'));
  const svc = await startServiceProcess({ NEO4J_LOCAL_DATA_DIR: own }, ['dist/src/main.js']);
  try {
    const post = (route: string, body: unknown) =>
      fetch(`${svc.url}${route}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const ring = ['built-1', 'built-2', 'built-3', 'built-4'];
    const events = ring.map((accountId) => ({
      type: 'payment',
      accountId,
      at: '2026-02-20T12:00:00Z',
      paymentMethod: 'pm-built',
    }));
    expect((await post('/v1/events', { events })).status).toBe(200);
    // The linkage's compute runs in a worker thread (compute-worker).
    const started = await post('/v1/linkage/runs', {});
    expect(started.status).toBe(202);
    const { runId } = (await started.json()) as { runId: string };
    let run: { status: string; error?: string } = { status: 'running' };
    for (const until = Date.now() + 120_000; run.status === 'running';) {
      if (Date.now() > until) throw new Error(`run ${runId} still running after 120 s`);
      await new Promise((r) => setTimeout(r, 200));
      run = (await (await fetch(`${svc.url}/v1/linkage/runs/${runId}`)).json()) as typeof run;
    }
    expect(run).toMatchObject({ status: 'succeeded' });
    // The console's queries run in a worker thread of their own (query-worker).
    const res = await post('/v1/cypher', {
      query: 'MATCH (a:Account) WHERE a.id STARTS WITH $p RETURN count(a) AS n',
      params: { p: 'built-' },
    });
    expect(await res.json()).toMatchObject({ rows: [{ n: ring.length }] });
    process.kill(-svc.child.pid!, 'SIGTERM');
    expect(await within(60_000, 'service exit', svc.exited)).toBe(0);
  } finally {
    if (svc.child.exitCode === null) {
      process.kill(-svc.child.pid!, 'SIGKILL');
      await svc.exited;
    }
    fs.rmSync(own, { recursive: true, force: true });
  }
});

it('Ctrl-C during a linkage run: the run is marked failed, the lease is free, all stops', async () => {
  const svc = await startServiceProcess();
  try {
    await ctrlC(svc);
  } finally {
    // a failure above must not leave the service (and its Neo4j's store lock) behind
    if (svc.child.exitCode === null) process.kill(-svc.child.pid!, 'SIGKILL');
  }
});

async function ctrlC(svc: Service): Promise<void> {
  const { pid, uri, password } = await neo4jReady(svc);
  const post = (route: string, body: unknown) =>
    fetch(`${svc.url}${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  // Five accounts on one card: one cluster, whose publish must write memberships.
  const ring = ['cc-1', 'cc-2', 'cc-3', 'cc-4', 'cc-5'];
  const at = '2026-02-20T12:00:00Z';
  const events = ring.map((accountId) => ({
    type: 'payment',
    accountId,
    at,
    paymentMethod: 'pm-cc',
  }));
  expect((await post('/v1/events', { events })).status).toBe(200);

  // Hold a write lock on one member, so the run is certainly mid-publish at the Ctrl-C.
  const neo4j = await import('neo4j-driver');
  const holder = neo4j.default.driver(uri, neo4j.default.auth.basic('neo4j', password));
  const session = holder.session();
  const lock = session.beginTransaction();
  await lock.run("MATCH (a:Account {id: 'cc-1'}) SET a.held = true");
  let runId = '';
  try {
    const res = await post('/v1/linkage/runs', {});
    expect(res.status).toBe(202);
    runId = ((await res.json()) as { runId: string }).runId;
    for (const until = Date.now() + 60_000; ;) {
      const run = (await (await fetch(`${svc.url}/v1/linkage/runs/${runId}`)).json()) as {
        status: string;
        phase: string;
      };
      expect(run.status).toBe('running');
      if (run.phase === 'publish') break;
      if (Date.now() > until) throw new Error(`run never reached publish: ${JSON.stringify(run)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    process.kill(-svc.child.pid!, 'SIGINT'); // the terminal's Ctrl-C: the whole group
    // The run's cluster is written, its membership batch waits on the lock: freed once the
    // stop has begun, the batch commits and the stopped run removes what it wrote, before
    // the driver closes (which cut that clean-up short for a run the API had started).
    await outputLine(svc, 'shutting down');
    await lock.rollback();
    const code = await within(60_000, 'service exit', svc.exited).catch((err: unknown) => {
      process.kill(-svc.child.pid!, 'SIGKILL');
      throw err;
    });
    expect([code, svc.output()]).toEqual([0, expect.stringContaining('shutting down')]);
    // The last word says it is over, so a user does not wonder whether Neo4j still runs.
    expect(svc.output()).toMatch(/"msg":"stopped[^"]*"[^\n]*\n?$/);
  } finally {
    // Rolled back above unless something failed first; Neo4j has stopped under it by now.
    await lock.rollback().catch(() => undefined);
    await session.close().catch(() => undefined);
    await holder.close().catch(() => undefined);
  }
  for (const until = Date.now() + 30_000; pidAlive(pid) && Date.now() < until;) {
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(pidAlive(pid)).toBe(false);

  // What the next start finds in the database.
  const local = await startLocalNeo4j({ dataDir, port: 0, heap: '512m', pagecache: '128m' });
  const driver = neo4j.default.driver(
    local.uri,
    neo4j.default.auth.basic(local.user, local.password),
  );
  try {
    const { records } = await driver.executeQuery(
      `MATCH (r:LinkageRun {id: $runId})
       OPTIONAL MATCH (l:Lease {name: 'linkage'})
       OPTIONAL MATCH (p:Pointer {name: 'current'})
       RETURN r.status AS status, r.error AS error, l.holder AS holder, p.runId AS current,
              COUNT { (:Cluster {runId: $runId}) } AS clusters,
              COUNT { (:Account)-[:MEMBER_OF]->(:Cluster {runId: $runId}) } AS memberships`,
      { runId },
    );
    const row = records[0]!.toObject() as Record<string, unknown>;
    const count = (key: string) => neo4j.default.integer.toNumber(row[key] as number);
    expect({ ...row, clusters: count('clusters'), memberships: count('memberships') }).toEqual({
      status: 'failed',
      error: 'service shutting down',
      holder: null,
      current: null,
      // removed by the run itself, not cut short by the driver closing first
      clusters: 0,
      memberships: 0,
    });
  } finally {
    await driver.close();
    await local.stop();
  }
}

it('a killed embedded Neo4j stops the service with an error, instead of slow 503s', async () => {
  // A run some earlier process left running without the lease: the service fails it
  // at start-up (src/linkage/dead-runs.ts), not at the next trigger.
  const local = await startLocalNeo4j({ dataDir, port: 0, heap: '512m', pagecache: '128m' });
  const neo4j = await import('neo4j-driver');
  const driver = neo4j.default.driver(
    local.uri,
    neo4j.default.auth.basic(local.user, local.password),
  );
  try {
    await driver.executeQuery(
      "CREATE (:LinkageRun {id: 'r-left-running', status: 'running', phase: 'build', startedAt: timestamp()})",
    );
  } finally {
    await driver.close();
    await local.stop();
  }
  const svc = await startServiceProcess();
  try {
    for (const until = Date.now() + 15_000; ;) {
      const run = (await (await fetch(`${svc.url}/v1/linkage/runs/r-left-running`)).json()) as {
        status: string;
        error: string | null;
      };
      if (run.status !== 'running') {
        expect(run).toMatchObject({ status: 'failed', error: expect.stringMatching(/abandoned/) });
        break;
      }
      if (Date.now() > until) throw new Error(`still running after start-up: ${svc.output()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    process.kill((await neo4jReady(svc)).pid, 'SIGKILL');
    const code = await within(30_000, 'service exit', svc.exited);
    expect(code).toBe(1);
    expect(svc.output()).toContain('the embedded Neo4j exited; stopping');
  } finally {
    if (svc.child.exitCode === null) process.kill(-svc.child.pid!, 'SIGKILL');
  }
});

it('SIGTERM with Neo4j gone during a run: the service stops within its grace period', async () => {
  // Neo4j of its own (NEO4J_URI set), so its death does not stop the service by itself.
  const ownDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coterie-service-gone-'));
  const local = await startLocalNeo4j({
    dataDir: ownDir,
    port: 0,
    heap: '512m',
    pagecache: '128m',
  });
  const svc = await startServiceProcess({
    NEO4J_URI: local.uri,
    NEO4J_USER: local.user,
    NEO4J_PASSWORD: local.password,
  }).catch(async (err: unknown) => {
    await local.stop();
    throw err;
  });
  const neo4j = await import('neo4j-driver');
  const holder = neo4j.default.driver(
    local.uri,
    neo4j.default.auth.basic(local.user, local.password),
  );
  try {
    const events = ['gone-1', 'gone-2', 'gone-3'].map((accountId) => ({
      type: 'payment',
      accountId,
      at: '2026-02-20T12:00:00Z',
      paymentMethod: 'pm-gone',
    }));
    const ingest = await fetch(`${svc.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ events }),
    });
    expect(ingest.status).toBe(200);
    // A lock on one member holds the run in publish until Neo4j is killed under it.
    const lock = holder.session().beginTransaction();
    await lock.run("MATCH (a:Account {id: 'gone-1'}) SET a.held = true");
    const res = await fetch(`${svc.url}/v1/linkage/runs`, { method: 'POST' });
    expect(res.status).toBe(202);
    const { runId } = (await res.json()) as { runId: string };
    for (const until = Date.now() + 60_000; ;) {
      const run = (await (await fetch(`${svc.url}/v1/linkage/runs/${runId}`)).json()) as {
        phase: string;
      };
      if (run.phase === 'publish') break;
      if (Date.now() > until) throw new Error(`run never reached publish: ${JSON.stringify(run)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    process.kill(local.pid, 'SIGKILL');
    await local.exited;
    const signalled = Date.now();
    svc.child.kill('SIGTERM');
    // Before the fix the stop first waited for the driver's 30 s of retries to mark the
    // run failed, then for the grace period: ~40 s. README promises about 10 s.
    const code = await within(60_000, 'service exit', svc.exited);
    const tookMs = Date.now() - signalled;
    expect([code, svc.output()]).toEqual([0, expect.stringContaining('shutting down')]);
    // 25 s: the grace (10 s) and a loaded machine's exit, well below the 40 s before.
    expect(tookMs).toBeLessThan(25_000);
  } finally {
    await holder.close().catch(() => undefined);
    if (svc.child.exitCode === null) process.kill(-svc.child.pid!, 'SIGKILL');
    await local.stop();
    fs.rmSync(ownDir, { recursive: true, force: true });
  }
});

it('a service killed outright (SIGKILL): its embedded Neo4j stops and takes the bolt files with it', async () => {
  // No exit hook of the service runs: the launcher sees its stdin close, stops, and
  // removes bolt.uri / bolt.password itself (they stayed, with a live password, before).
  const svc = await startServiceProcess();
  try {
    const { pid } = await neo4jReady(svc);
    const boltFiles = () => boltFilesIn(dataDir);
    expect(boltFiles()).toEqual([BOLT_URI_FILE, BOLT_PASSWORD_FILE]);
    svc.child.kill('SIGKILL'); // the service only, not its group
    await within(10_000, 'service exit', svc.exited);
    for (const until = Date.now() + 60_000; pidAlive(pid) && Date.now() < until;) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(pidAlive(pid)).toBe(false);
    expect(boltFiles()).toEqual([]);
  } finally {
    if (svc.child.exitCode === null && svc.child.signalCode === null) {
      process.kill(-svc.child.pid!, 'SIGKILL');
    }
  }
});

it('SIGTERM under steady keep-alive traffic: the service stops instead of serving on', async () => {
  const svc = await startServiceProcess();
  let sending = true;
  const answered: number[] = [];
  // Clients that keep sending on their keep-alive connections until they are refused,
  // with batches that keep each connection busy (idle ones close at once anyway).
  const events = Array.from({ length: 500 }, (_, i) => ({
    type: 'request',
    accountId: `ka-${i % 50}`,
    at: '2026-02-20T12:00:00Z',
    ip: `10.9.${i % 7}.1`,
  }));
  const body = JSON.stringify({ events });
  const client = async () => {
    while (sending) {
      const status = await fetch(`${svc.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      }).then(
        (r) => r.status,
        () => 0,
      );
      answered.push(status);
      if (status === 0) await new Promise((r) => setTimeout(r, 50));
    }
  };
  const clients = Array.from({ length: 4 }, client);
  try {
    const ok = () => answered.filter((s) => s === 200).length;
    for (const until = Date.now() + 30_000; ok() < 20 && Date.now() < until;)
      await new Promise((r) => setTimeout(r, 100));
    expect([ok(), [...new Set(answered)]]).toEqual([expect.any(Number), [200]]);
    expect(ok()).toBeGreaterThanOrEqual(20);
    // One more batch, held in flight across the SIGTERM by a lock on its account: it is
    // answered, and with `connection: close`, as README says of requests in flight.
    const { held } = await sigtermWithBatchHeld(svc, 'held-1');
    expect(await held).toEqual({ status: 200, connection: 'close' });
    // Before the fix it served on for as long as the clients sent (50 s in a review).
    const code = await within(45_000, 'service exit under load', svc.exited);
    expect(code).toBe(0);
    expect(svc.output()).toMatch(/"msg":"stopped[^"]*"[^\n]*\n?$/);
  } finally {
    sending = false;
    await Promise.all(clients);
    if (svc.child.exitCode === null) process.kill(-svc.child.pid!, 'SIGKILL');
  }
});

it('the embedded Neo4j stopped by the same stop (systemd signals the whole unit): the service ends its stop, exit 0', async () => {
  // Review, 12-04: Neo4j's exit during the stop read as a crash: exit 1 at once, the
  // stop's waits cut short.
  const { code, output } = await neo4jGoneDuringStop('SIGTERM');
  expect(code).toBe(0);
  expect(output).toContain('the embedded Neo4j exited during the stop');
  expect(output).not.toContain('the embedded Neo4j exited; stopping');
  expect(output).toMatch(/"msg":"stopped[^"]*"[^\n]*\n?$/);
});

it('the embedded Neo4j killed during the stop: the service ends its stop, exit 1', async () => {
  // Review, 12-04: it exited 0, and a supervisor took a store that may need recovery
  // for a clean stop.
  const { code, output } = await neo4jGoneDuringStop('SIGKILL');
  expect(code).toBe(1);
  expect(output).toContain('the embedded Neo4j exited during the stop');
  expect(output).toMatch(
    /"exit":"SIGKILL"[^\n]*"msg":"stopped, but the embedded Neo4j did not stop cleanly"/,
  );
});

/**
 * A service stopped while a request is still arriving (so the stop is still waiting),
 * whose embedded Neo4j gets `signal` meanwhile and is heard to exit: its exit code and
 * output.
 */
async function neo4jGoneDuringStop(
  signal: NodeJS.Signals,
): Promise<{ code: number | null; output: string }> {
  // Log lines written at once (not up to a second late): all of what follows must fit in
  // the stop's grace (10 s), after which the request is cut and the stop closes.
  const svc = await startServiceProcess({ LOG_SYNC: 'true' });
  const { pid } = await neo4jReady(svc);
  // A batch whose body has not all come holds server.close() without holding anything in
  // Neo4j. A batch held by a lock did, and Neo4j's own shutdown then waited for that
  // transaction about as long as the stop's grace: which of the two heard the exit
  // depended on timing (CI, 12-05).
  const slow = await requestArriving(svc.url);
  try {
    svc.child.kill('SIGTERM');
    await outputLine(svc, 'shutting down');
    process.kill(pid, signal);
    await outputLine(svc, 'the embedded Neo4j exited');
    const stillStopping = svc.child.exitCode === null;
    slow.destroy(); // the stop can now end
    const code = await within(60_000, 'service exit', svc.exited);
    expect(stillStopping).toBe(true); // the exit did not cut the stop short
    return { code, output: svc.output() };
  } finally {
    slow.destroy();
    if (svc.child.exitCode === null) process.kill(-svc.child.pid!, 'SIGKILL');
  }
}

/**
 * A POST of a batch with only part of its body sent, once the server has read its head
 * (its `100 Continue`): a request in flight until the socket is destroyed.
 */
async function requestArriving(url: string): Promise<net.Socket> {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  socket.on('error', () => undefined); // destroyed by the test or cut by the stop
  const body = JSON.stringify({
    events: [{ type: 'request', accountId: 'slow', at: '2026-02-20T12:00:00Z' }],
  });
  socket.write(
    `POST /v1/events HTTP/1.1\r\nhost: ${hostname}\r\ncontent-type: application/json\r\n` +
      `content-length: ${body.length}\r\nexpect: 100-continue\r\n\r\n`,
  );
  let heard = '';
  await within(
    30_000,
    '100 Continue',
    new Promise<void>((resolve) =>
      socket.on('data', (d: Buffer) => {
        heard += d.toString();
        if (heard.includes(' 100 ')) resolve();
      }),
    ),
  );
  socket.write(body.slice(0, 10));
  return socket;
}

/**
 * Sends a batch for `accountId` that waits on a lock the test holds on that account, then
 * SIGTERM to the service, and once it says "shutting down" lets the batch go on. Returns
 * the batch's answer to come.
 */
async function sigtermWithBatchHeld(
  svc: Service,
  accountId: string,
): Promise<{ held: Promise<{ status: number; connection: string | undefined }> }> {
  const neo4j = await import('neo4j-driver');
  const ready = await neo4jReady(svc);
  const driver = neo4j.default.driver(ready.uri, neo4j.default.auth.basic('neo4j', ready.password));
  const session = driver.session();
  const lock = session.beginTransaction();
  try {
    await lock.run('MERGE (a:Account {id: $id}) SET a.held = true', { id: accountId });
    const held = postRaw(`${svc.url}/v1/events`, {
      events: [{ type: 'request', accountId, at: '2026-02-20T12:00:00Z' }],
    });
    held.catch(() => undefined); // awaited by the caller
    await waitForBlocked(driver, 1, 'the held batch never waited on the lock');
    svc.child.kill('SIGTERM');
    await outputLine(svc, 'shutting down');
    return { held };
  } finally {
    await lock.rollback().catch(() => undefined);
    await session.close().catch(() => undefined);
    await driver.close();
  }
}

const keepAlive = new http.Agent({ keepAlive: true });
afterAll(() => keepAlive.destroy());

/** A POST with Node's http client, which shows the `connection` header fetch hides. */
function postRaw(
  url: string,
  body: unknown,
): Promise<{ status: number; connection: string | undefined }> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      // keep-alive, as real clients: a client asking for `close` gets it anyway
      { method: 'POST', agent: keepAlive, headers: { 'content-type': 'application/json' } },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }),
        );
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

it('SIGTERM to a CLI command during its start-up: Neo4j stopped, bolt files removed, exit 143', async () => {
  // Found by review: before its own handlers the command died by the signal's default
  // action, and its exit hooks, which remove bolt.uri / bolt.password, never ran.
  const fresh = fs.mkdtempSync(path.join(os.tmpdir(), 'coterie-cli-startup-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'linkage', 'run'], {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: childEnv({
      NEO4J_URI: '',
      NEO4J_LOCAL_DATA_DIR: fresh,
      NEO4J_LOCAL_BOLT_PORT: '0',
      NEO4J_LOCAL_HEAP: '512m',
      NEO4J_LOCAL_PAGECACHE: '128m',
      LOG_LEVEL: 'debug', // the CLI logs at warn unless asked for more: "local Neo4j is up"
    }),
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const boltFiles = () => boltFilesIn(fresh);
  try {
    let pid = 0;
    for (const until = Date.now() + 180_000; ;) {
      pid = Number(/neo4j-local\[(\d+)\]: ready at/.exec(stderr)?.[1] ?? 0);
      if (pid > 0 && stderr.includes('"msg":"local Neo4j is up"')) break;
      if (child.exitCode !== null || Date.now() > until) {
        throw new Error(`no "local Neo4j is up" line:\n${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(boltFiles()).toEqual([BOLT_URI_FILE, BOLT_PASSWORD_FILE]);
    child.kill('SIGTERM');
    const code = await within(90_000, 'CLI exit', exited);
    // Stopped while migrations ran, before the run (else this test proves nothing).
    expect(stderr).not.toMatch(/linkage \[/);
    expect([code, stderr]).toEqual([
      143,
      expect.stringContaining('SIGTERM: stopping during start-up'),
    ]);
    expect(pidAlive(pid)).toBe(false);
    expect(boltFiles()).toEqual([]);
  } finally {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
    fs.rmSync(fresh, { recursive: true, force: true });
  }
});

it('SIGTERM during start-up: the embedded Neo4j is stopped, its bolt files removed, exit 143', async () => {
  // A new store: its migrations take seconds after Neo4j is up, the window for the signal.
  const fresh = fs.mkdtempSync(path.join(os.tmpdir(), 'coterie-service-startup-'));
  const svc = spawnServiceProcess({ NEO4J_LOCAL_DATA_DIR: fresh, LOG_SYNC: 'true' });
  const boltFiles = () => boltFilesIn(fresh);
  try {
    let pid = 0;
    for (const until = Date.now() + 180_000; ;) {
      const out = svc.output();
      pid = Number(/neo4j-local\[(\d+)\]: ready at/.exec(out)?.[1] ?? 0);
      if (pid > 0 && out.includes('"msg":"local Neo4j is up"')) break;
      if (svc.child.exitCode !== null || Date.now() > until) {
        throw new Error(`no "local Neo4j is up" line:\n${out}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(boltFiles()).toEqual([BOLT_URI_FILE, BOLT_PASSWORD_FILE]);
    svc.child.kill('SIGTERM');
    const code = await within(90_000, 'service exit', svc.exited);
    // Stopped while it was still starting (else this test proves nothing), and said so.
    expect(svc.output()).not.toContain('coterie is listening');
    expect([code, svc.output()]).toEqual([
      143,
      expect.stringContaining('"msg":"start-up stopped"'),
    ]);
    // Neo4j was stopped before the service exited, and took its files with it.
    expect(pidAlive(pid)).toBe(false);
    expect(boltFiles()).toEqual([]);
  } finally {
    if (svc.child.exitCode === null && svc.child.signalCode === null) {
      process.kill(-svc.child.pid!, 'SIGKILL');
    }
    fs.rmSync(fresh, { recursive: true, force: true });
  }
});
