/**
 * Who may do what, over HTTP against a real Neo4j: every route but health, the API
 * docs (openapi.test.ts) and triggering a run (linkage.test.ts) with no
 * key, a malformed header, an unknown key, and each role; and the no-keys mode,
 * where every caller is the local admin.
 */
import { startTestNeo4j, type TestNeo4j } from '../support/neo4j';
import { startService, type TestService } from '../support/service';
import { API_KEYS, KEYS, RING_CLUSTER, ingestWorld, seedRun } from '../support/analyst-fixtures';

let neo4j: TestNeo4j;
let svc: TestService;
let open: TestService;

beforeAll(async () => {
  neo4j = await startTestNeo4j();
  svc = await startService(neo4j.uri, { API_KEYS });
  open = await startService(neo4j.uri, {});
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
];

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
  };
  const allowed = body.error?.details?.allowed;
  return { status: res.status, code: body.error?.code, ...(allowed ? { allowed } : {}) };
}

describe('with API keys configured', () => {
  it.each(ROUTES.map((r) => [`${r.method} ${r.path}`, r] as const))('%s', async (_name, route) => {
    for (const header of [
      undefined,
      'Bearer',
      'Basic abc',
      'Bearer wrong-key',
      `Bearer ${KEYS.analyst}x`,
    ]) {
      expect([header, await call(svc.url, route, header)]).toEqual([
        header,
        { status: 401, code: 'unauthenticated' },
      ]);
    }
    for (const role of Object.keys(KEYS) as Role[]) {
      const res = await call(svc.url, route, `Bearer ${KEYS[role]}`);
      if (route.allowed.includes(role)) {
        expect([role, res.status < 300]).toEqual([role, true]);
      } else {
        // The refusal names every role that may, admin included.
        expect([role, res]).toEqual([
          role,
          { status: 403, code: 'forbidden', allowed: [...route.allowed].sort() },
        ]);
      }
    }
  });

  it('the audit trail names the key that acted', async () => {
    const res = await neo4j.driver.executeQuery(
      "MATCH (e:AuditEntry {action: 'verdict'}) RETURN collect(DISTINCT e.actor) AS actors",
    );
    expect((res.records[0]?.get('actors') as string[]).sort()).toEqual(['adm', 'ana']);
  });
});

describe('with no keys configured', () => {
  it('every caller is the local admin', async () => {
    for (const route of ROUTES) {
      const res = await call(open.url, route);
      expect([route.path, res.status < 300]).toEqual([route.path, true]);
    }
    const res = await neo4j.driver.executeQuery(
      "MATCH (e:AuditEntry {action: 'cypher', actor: 'local'}) RETURN count(e) AS n",
    );
    expect(res.records[0]?.get('n').toNumber()).toBeGreaterThan(0);
  });
});
