/**
 * Who may do what, over HTTP against a real Neo4j: every route but health and the API
 * docs (openapi.test.ts) with no key, a malformed header, an unknown key, and each role
 * (a case checks that this covers every operation the OpenAPI document lists); and the
 * no-keys mode, where every caller is the local admin.
 */
import http from 'node:http';
import { startTestNeo4j, type TestNeo4j } from '../support/neo4j';
import { startService, type TestService } from '../support/service';
import {
  API_KEYS,
  KEYS,
  RING_CLUSTER,
  auth,
  ingestWorld,
  seedRun,
} from '../support/analyst-fixtures';

let neo4j: TestNeo4j;
let svc: TestService;
let open: TestService;

beforeAll(async () => {
  neo4j = await startTestNeo4j();
  // The pointer read on every request: the run trigger below moves it, and a seeded run
  // moves it back.
  svc = await startService(neo4j, { API_KEYS, CURRENT_RUN_CHECK_MS: '0' });
  open = await startService(neo4j, { CURRENT_RUN_CHECK_MS: '0' });
  await ingestWorld(open.url);
  await seedRun(neo4j.driver, 'r-1', [RING_CLUSTER]);
});

afterAll(async () => {
  await open?.stop();
  await svc?.stop();
  await neo4j?.stop();
});

type Role = keyof typeof KEYS;
const ALLOWED_IP = { kind: 'ip', value: '192.0.2.77' };
interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  body?: unknown;
  allowed: Role[];
  /** After each call it let through, with that answer: waits for what the call started. */
  settle?: (answer: Answer) => Promise<void>;
}
type Answer = Awaited<ReturnType<typeof call>>;

/** Runs this file seeded after a triggered run, each holding c-ring as r-1 does. */
let reseeded = 0;

/**
 * Waits for a run the trigger started to end, its housekeeping too (a run reads
 * succeeded before its pruning is done), then makes a seeded run holding c-ring current
 * again: the routes after it read c-ring, and the next trigger must find the lease free.
 */
async function runEnded({ runId }: Answer): Promise<void> {
  expect(runId).toEqual(expect.any(String));
  for (const until = Date.now() + 120_000; ;) {
    const res = await fetch(`${open.url}/v1/linkage/runs/${runId}`);
    const run = (await res.json()) as { status: string; stats: { publish?: { pruneMs?: number } } };
    const done = run.status === 'succeeded' ? run.stats.publish?.pruneMs !== undefined : true;
    if (run.status !== 'running' && done) break;
    if (Date.now() > until) throw new Error(`run ${runId} still running: ${JSON.stringify(run)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  await seedRun(neo4j.driver, `r-ring-${++reseeded}`, [RING_CLUSTER]);
}

const ROUTES: Route[] = [
  { method: 'GET', path: '/v1/accounts/ring:0/cluster', allowed: ['analyst', 'admin'] },
  { method: 'GET', path: '/v1/accounts/ring:0', allowed: ['analyst', 'admin'] },
  { method: 'GET', path: '/v1/clusters', allowed: ['analyst', 'admin'] },
  { method: 'GET', path: '/v1/clusters/c-ring', allowed: ['analyst', 'admin'] },
  { method: 'GET', path: '/v1/clusters/c-ring/graph', allowed: ['analyst', 'admin'] },
  {
    method: 'POST',
    path: '/v1/clusters/c-ring/verdict',
    body: { verdict: 'confirmed', note: 'auth test' },
    allowed: ['analyst', 'admin'],
  },
  { method: 'GET', path: '/v1/verdicts', allowed: ['analyst', 'admin'] },
  { method: 'GET', path: '/v1/audit', allowed: ['admin'] },
  { method: 'GET', path: '/v1/investigations', allowed: ['analyst', 'admin'] },
  {
    method: 'POST',
    path: '/v1/investigations/accounts-sharing-payment-method',
    body: { accountId: 'ring:0' },
    allowed: ['analyst', 'admin'],
  },
  {
    method: 'POST',
    path: '/v1/cypher',
    body: { query: 'RETURN 1 AS one' },
    allowed: ['analyst', 'admin'],
  },
  { method: 'POST', path: '/v1/events', body: { events: [] }, allowed: ['ingest', 'admin'] },
  { method: 'GET', path: '/v1/linkage/runs', allowed: ['analyst', 'admin'] },
  { method: 'GET', path: '/v1/linkage/runs/r-1', allowed: ['analyst', 'admin'] },
  { method: 'GET', path: '/v1/allowlist', allowed: ['analyst', 'admin'] },
  // added, then removed again: each describe below runs both, in this order
  { method: 'POST', path: '/v1/allowlist', body: ALLOWED_IP, allowed: ['admin'] },
  { method: 'DELETE', path: '/v1/allowlist', body: ALLOWED_IP, allowed: ['admin'] },
  { method: 'GET', path: '/metrics', allowed: ['metrics', 'admin'] },
  // Last: it starts a run, which moves the pointer (runEnded moves it back).
  { method: 'POST', path: '/v1/linkage/runs', body: {}, allowed: ['admin'], settle: runEnded },
];

/** Operations the document lists that are open to all (they hold no data): no key needed. */
const OPEN = ['GET /healthz', 'GET /readyz'];

async function call(base: string, route: Route, authorization?: string) {
  const res = await fetch(`${base}${route.path}`, {
    method: route.method,
    headers: {
      ...(route.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(authorization ? { authorization } : {}),
    },
    body: route.body !== undefined ? JSON.stringify(route.body) : undefined,
  });
  const text = await res.text(); // empty for 204, Prometheus text for /metrics
  const json = res.headers.get('content-type')?.includes('application/json') && text;
  const body = (json ? JSON.parse(text) : {}) as {
    error?: { code: string; details?: { allowed?: string[] } };
    runId?: string;
  };
  const allowed = body.error?.details?.allowed;
  const runId = body.runId; // the run trigger's answer
  return {
    status: res.status,
    code: body.error?.code,
    ...(allowed ? { allowed } : {}),
    ...(runId !== undefined ? { runId } : {}),
    ...(res.status === 401 ? { challenge: res.headers.get('www-authenticate') } : {}),
  };
}

describe('with API keys configured', () => {
  it.each(ROUTES.map((r) => [`${r.method} ${r.path}`, r] as const))('%s', async (_name, route) => {
    // Every 401 names its scheme (RFC 9110), and says when the key itself is unknown.
    const absent = 'Bearer realm="coterie"';
    const unknown = 'Bearer realm="coterie", error="invalid_token"';
    for (const [header, challenge] of [
      [undefined, absent],
      ['Bearer', absent],
      ['Basic abc', absent],
      ['Bearer wrong-key', unknown],
      [`Bearer ${KEYS.analyst}x`, unknown],
    ] as const) {
      expect([header, await call(svc.url, route, header)]).toEqual([
        header,
        { status: 401, code: 'unauthenticated', challenge },
      ]);
    }
    for (const role of Object.keys(KEYS) as Role[]) {
      const res = await call(svc.url, route, `Bearer ${KEYS[role]}`);
      if (route.allowed.includes(role)) {
        expect([role, res.status < 300]).toEqual([role, true]);
        await route.settle?.(res);
      } else {
        // The refusal names every role that may, admin included.
        expect([role, res]).toEqual([
          role,
          { status: 403, code: 'forbidden', allowed: [...route.allowed].sort() },
        ]);
      }
    }
  });

  it('the routes above are every operation the OpenAPI document lists, but the open ones', async () => {
    const res = await fetch(`${svc.url}/openapi.json`, {
      headers: { authorization: `Bearer ${KEYS.analyst}` },
    });
    const doc = (await res.json()) as {
      paths: Record<string, Record<string, { 'x-roles'?: string[]; description?: string }>>;
    };
    const documented = Object.entries(doc.paths).flatMap(([template, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${template}`),
    );
    // Each route here as the operation it calls: its method and the template its path fits.
    const fits = (template: string, p: string) =>
      new RegExp(
        `^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}/]+\}/g, '[^/]+')}$`,
      ).test(p);
    const called = ROUTES.map((r) => {
      const ops = documented.filter((op) => {
        const [method, template] = op.split(' ') as [string, string];
        return method === r.method && fits(template, r.path);
      });
      return ops.length === 1 ? ops[0] : `${r.method} ${r.path} fits ${ops.length} operations`;
    });
    expect([...new Set([...called, ...OPEN])].sort()).toEqual([...documented].sort());
    // Each says the roles the route lets in, the ones the 403s above name (OpenAPI review,
    // 12-07: 13 of them said none).
    ROUTES.forEach((r, i) => {
      const [method, template] = called[i]!.split(' ') as [string, string];
      const op = doc.paths[template]![method.toLowerCase()]!;
      const allowed = [...r.allowed].sort();
      expect([called[i], op['x-roles'], op.description]).toEqual([
        called[i],
        allowed,
        expect.stringContaining(`Roles: ${allowed.join(', ')} (`),
      ]);
    });
    // Not vacuous: the document lists the run trigger, and a path fits only its template.
    expect(documented).toContain('POST /v1/linkage/runs');
    expect(fits('/v1/clusters/{id}', '/v1/clusters/c-ring/graph')).toBe(false);
  });

  it('the audit trail names the key that acted', async () => {
    const res = await neo4j.driver.executeQuery(
      "MATCH (e:AuditEntry {action: 'verdict'}) RETURN collect(DISTINCT e.actor) AS actors",
    );
    expect((res.records[0]?.get('actors') as string[]).sort()).toEqual(['adm', 'ana']);
  });
});

describe('request bodies', () => {
  // Security review, 12-04: every body was parsed up to INGEST_MAX_BODY_BYTES (10 MiB)
  // before any route's role check, whatever the key and the route.
  const post = async (path: string, role: Role, body: string) => {
    const res = await fetch(`${svc.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS[role]}` },
      body,
    });
    return {
      status: res.status,
      code: ((await res.json()) as { error?: { code: string } }).error?.code,
    };
  };
  const padded = (bytes: number) => JSON.stringify({ events: [], pad: 'x'.repeat(bytes) });

  it('a key that may not ingest is refused before its events body is read', async () => {
    const over = padded(11 * 1024 * 1024); // past INGEST_MAX_BODY_BYTES' 10 MiB
    expect(await post('/v1/events', 'metrics', over)).toEqual({ status: 403, code: 'forbidden' });
    expect(await post('/v1/events', 'ingest', over)).toEqual({
      status: 413,
      code: 'payload_too_large',
    });
  });

  it('only events take bodies past a MiB', async () => {
    const body = padded(2 * 1024 * 1024);
    // Read whole (the unknown key `pad` is refused by the schema, not by the size).
    expect(await post('/v1/events', 'ingest', body)).toEqual({
      status: 400,
      code: 'validation_failed',
    });
    for (const path of [
      '/v1/cypher',
      '/v1/investigations/accounts-sharing-payment-method',
      '/v1/allowlist',
    ]) {
      expect([path, await post(path, 'admin', body)]).toEqual([
        path,
        { status: 413, code: 'payload_too_large' },
      ]);
    }
  });
});

describe('requests per minute per API key (API_RATE_LIMIT_PER_MINUTE)', () => {
  it('refuses a key past its limit with 429 and Retry-After; other keys, batches of events and health go on', async () => {
    const limited = await startService(neo4j, { API_KEYS, API_RATE_LIMIT_PER_MINUTE: '3' });
    try {
      const get = (role: keyof typeof KEYS) =>
        fetch(`${limited.url}/v1/allowlist`, { headers: auth(role) });
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push(await get('analyst'));
      expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 429]);
      const refused = answers[3]!;
      expect(((await refused.json()) as { error: unknown }).error).toMatchObject({
        code: 'too_many_requests',
        details: { limitPerMinute: 3 },
      });
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(answers[0]!.headers.get('ratelimit-policy')).toMatch(/q=3/);
      // The count is the key's. Batches of events are not counted, by an admin key too
      // (review, 12-05: the exemption was the ingest role's, so an admin ingesting was
      // limited and an ingest key was not, on any route).
      expect((await get('admin')).status).toBe(200);
      const batch = (role: keyof typeof KEYS, path = '/v1/events') =>
        fetch(`${limited.url}${path}`, {
          method: 'POST',
          headers: { ...auth(role), 'content-type': 'application/json' },
          body: JSON.stringify({
            events: [{ type: 'signup', accountId: 'rate:x', at: '2026-02-01T10:00:00Z' }],
          }),
        });
      const batches = [];
      for (let i = 0; i < 4; i++) batches.push((await batch('admin', '/V1/Events/')).status);
      for (let i = 0; i < 4; i++) batches.push((await batch('ingest')).status);
      expect(batches).toEqual(Array(8).fill(200));
      expect((await get('admin')).status).toBe(200); // its second counted request
      const ingestElsewhere = [];
      for (let i = 0; i < 4; i++) ingestElsewhere.push((await get('ingest')).status);
      expect(ingestElsewhere).toEqual([403, 403, 403, 429]);
      // …and a key of another role sending batches is counted (review, 12-05).
      const batchesRefused = [];
      for (let i = 0; i < 4; i++) batchesRefused.push((await batch('metrics')).status);
      expect(batchesRefused).toEqual([403, 403, 403, 429]);
      expect((await fetch(`${limited.url}/healthz`)).status).toBe(200);
      expect((await get('analyst')).status).toBe(429);
    } finally {
      await limited.stop();
    }
  });
});

describe('with no keys configured', () => {
  it('every caller is the local admin', async () => {
    for (const route of ROUTES) {
      const res = await call(open.url, route);
      expect([route.path, res.status < 300]).toEqual([route.path, true]);
      await route.settle?.(res);
    }
    const res = await neo4j.driver.executeQuery(
      "MATCH (e:AuditEntry {action: 'cypher', actor: 'local'}) RETURN count(e) AS n",
    );
    expect(res.records[0]?.get('n').toNumber()).toBeGreaterThan(0);
  });

  it('only in requests addressed to loopback: a rebound domain is refused on every route', async () => {
    const port = new URL(open.url).port;
    for (const route of ROUTES) {
      const rebound = await withHost(open.url, route, `rebind.attacker.example:${port}`);
      expect([route.path, rebound]).toEqual([route.path, { status: 403, code: 'forbidden' }]);
    }
    const get = ROUTES.find((r) => r.method === 'GET' && r.path !== '/metrics') as Route;
    for (const host of [`localhost:${port}`, `LOCALHOST`, `127.0.0.1:${port}`, `[::1]:${port}`]) {
      expect([host, (await withHost(open.url, get, host)).status]).toEqual([host, 200]);
    }
    expect((await withHost(open.url, get, `127.0.0.1.attacker.example`)).status).toBe(403);
    // health stays open (it holds no data)
    const health = await withHost(
      open.url,
      { method: 'GET', path: '/healthz', allowed: [] },
      'x.example',
    );
    expect(health.status).toBe(200);
  });

  it('nor from a page of another site: a browser says so, and cannot start work (CSRF)', async () => {
    const port = new URL(open.url).port;
    const host = `127.0.0.1:${port}`;
    // An empty POST (a beacon, a no-cors fetch) would otherwise start a linkage run.
    const start: Route = { method: 'POST', path: '/v1/linkage/runs', allowed: [] };
    const crossSite: Record<string, string>[] = [
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site', origin: 'http://localhost:3000' },
      { origin: 'https://evil.example' },
      { origin: `http://localhost:${Number(port) + 1}` },
      { origin: 'null' },
    ];
    const runs = async () =>
      Number(
        (
          await neo4j.driver.executeQuery('MATCH (r:LinkageRun) RETURN count(r) AS n')
        ).records[0]?.get('n'),
      );
    const runsBefore = await runs();
    for (const header of crossSite) {
      const res = await withHost(open.url, start, host, header);
      expect([header, res]).toEqual([header, { status: 403, code: 'forbidden' }]);
    }
    // Refused before it started anything: no run record, the lease free.
    expect(await runs()).toBe(runsBefore);
    const lease = await neo4j.driver.executeQuery(
      "OPTIONAL MATCH (l:Lease {name: 'linkage'}) RETURN l.holder AS holder",
    );
    expect(lease.records[0]?.get('holder') ?? null).toBeNull();
    const get = ROUTES.find((r) => r.method === 'GET' && r.path !== '/metrics') as Route;
    // the service's own pages (its /docs), and clients that are not browsers, are served
    const sameOrigin: Record<string, string>[] = [
      { 'sec-fetch-site': 'same-origin', origin: `http://${host}` },
      { 'sec-fetch-site': 'none' },
      {},
    ];
    for (const header of sameOrigin) {
      expect([header, (await withHost(open.url, get, host, header)).status]).toEqual([header, 200]);
    }
  });

  it('nor through a proxy on this machine, which rewrites Host to loopback but says it forwarded', async () => {
    const port = new URL(open.url).port;
    const get = ROUTES.find((r) => r.method === 'GET' && r.path !== '/metrics') as Route;
    const headers: Record<string, string>[] = [
      { 'x-forwarded-for': '203.0.113.9' },
      { forwarded: 'for=203.0.113.9' },
      { via: '1.1 nginx' },
      { 'x-real-ip': '203.0.113.9' },
      { 'x-forwarded-host': 'coterie.example' },
    ];
    for (const header of headers) {
      const res = await withHost(open.url, get, `127.0.0.1:${port}`, header);
      expect([header, res]).toEqual([header, { status: 403, code: 'forbidden' }]);
    }
    expect((await withHost(open.url, get, `127.0.0.1:${port}`)).status).toBe(200);
  });
});

/** A request with the Host header set (fetch does not let a caller choose it). */
function withHost(
  base: string,
  route: Route,
  host: string,
  extra: Record<string, string> = {},
): Promise<{ status: number; code?: string }> {
  const url = new URL(`${base}${route.path}`);
  const body = route.body !== undefined ? JSON.stringify(route.body) : undefined;
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method: route.method,
        agent: false, // a connection each: a refused POST's unread body ends its socket
        headers: { host, ...extra, ...(body ? { 'content-type': 'application/json' } : {}) },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => {
          const json = res.headers['content-type']?.includes('application/json') && text;
          const code = json
            ? (JSON.parse(text) as { error?: { code: string } }).error?.code
            : undefined;
          resolve({ status: res.statusCode ?? 0, ...(code ? { code } : {}) });
        });
      },
    );
    req.on('error', (err) =>
      reject(new Error(`${route.method} ${route.path} (Host ${host}): ${String(err)}`)),
    );
    req.end(body);
  });
}
