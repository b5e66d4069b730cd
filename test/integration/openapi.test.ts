/**
 * Self-description over HTTP: the OpenAPI 3.1 document covers every route the app
 * serves, the docs page renders, /metrics speaks Prometheus with per-route latency,
 * and every error, whatever raised it, has the one body {"error": {code, message}}.
 */
import { createApp } from '../../src/app';
import { startTestNeo4j, type TestNeo4j } from '../support/neo4j';
import { postJson, startService, type TestService } from '../support/service';
import { API_KEYS, auth, getJson, ingestWorld } from '../support/analyst-fixtures';

let neo4j: TestNeo4j;
let svc: TestService;

beforeAll(async () => {
  neo4j = await startTestNeo4j();
  svc = await startService(neo4j, { API_KEYS });
  await ingestWorld(svc.url);
});

afterAll(async () => {
  await svc?.stop();
  await neo4j?.stop();
});

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** Every route Express has registered, as "METHOD /path/{param}". */
function servedRoutes(app: unknown): string[] {
  const out: string[] = [];
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        const path = layer.route.path.replace(/:(\w+)/g, '{$1}');
        for (const m of Object.keys(layer.route.methods)) out.push(`${m.toUpperCase()} ${path}`);
      } else if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  walk((app as { router: { stack: Layer[] } }).router.stack);
  return out.filter((r) => !r.includes('/docs') && !r.endsWith('/openapi.json'));
}

describe('GET /openapi.json', () => {
  it('is OpenAPI 3.1 and documents every route, with the one error body', async () => {
    const res = await getJson(`${svc.url}/openapi.json`, auth('analyst'));
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    const paths = res.body.paths as Record<string, Record<string, unknown>>;
    const documented = Object.entries(paths).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`),
    );
    expect(documented.sort()).toEqual(
      [
        'GET /healthz',
        'GET /readyz',
        'GET /metrics',
        'POST /v1/events',
        'POST /v1/linkage/runs',
        'GET /v1/linkage/runs',
        'GET /v1/linkage/runs/{id}',
        'GET /v1/allowlist',
        'POST /v1/allowlist',
        'DELETE /v1/allowlist',
        'GET /v1/accounts/{id}/cluster',
        'GET /v1/accounts/{id}',
        'GET /v1/clusters',
        'GET /v1/clusters/{id}',
        'GET /v1/clusters/{id}/graph',
        'POST /v1/clusters/{id}/verdict',
        'GET /v1/verdicts',
        'GET /v1/audit',
        'GET /v1/investigations',
        'POST /v1/investigations/{name}',
        'POST /v1/cypher',
      ].sort(),
    );
    const schemas = (res.body.components as { schemas: Record<string, unknown> }).schemas;
    expect(Object.keys(schemas)).toEqual(
      expect.arrayContaining([
        'Error',
        'Membership',
        'ClusterDetail',
        'VerdictRequest',
        'CypherRequest',
      ]),
    );
    // Request schemas come from the zod schemas the routes validate with.
    const verdictRequest = schemas.VerdictRequest as { properties: Record<string, unknown> };
    expect(verdictRequest.properties.verdict).toMatchObject({ enum: ['confirmed', 'benign'] });
    const events = paths['/v1/events']?.post as { requestBody: unknown };
    expect(JSON.stringify(events.requestBody)).toContain('promptFingerprint');
  });

  it('every route the app serves is documented', async () => {
    const res = await getJson(`${svc.url}/openapi.json`, auth('analyst'));
    const documented = new Set(
      Object.entries(res.body.paths as Record<string, object>).flatMap(([p, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`),
      ),
    );
    const served = servedRoutes(createApp(svc.ctx));
    expect(served.length).toBeGreaterThan(15);
    expect(served.filter((r) => !documented.has(r))).toEqual([]);
  });

  it('GET /docs renders the browsable page', async () => {
    const res = await fetch(`${svc.url}/docs/`, { headers: auth('analyst') });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('swagger-ui');
    const init = await fetch(`${svc.url}/docs/swagger-ui-init.js`, { headers: auth('analyst') });
    expect(init.status).toBe(200);
    expect(await init.text()).toContain('/v1/clusters/{id}/verdict');
    // swagger-ui-express's own plain-text 404 for …/package.json answered there (review, 12-06)
    const pkg = await getJson(`${svc.url}/docs/x/package.json`, auth('analyst'));
    expect(pkg).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
  });

  it("GET /docs without the slash is sent to /docs/ (serve-static), where the page's files resolve", async () => {
    const bare = await fetch(`${svc.url}/docs?x=1`, {
      headers: auth('analyst'),
      redirect: 'manual',
    });
    expect(bare.status).toBe(301);
    expect(bare.headers.get('location')).toBe('/docs/?x=1');
    await bare.arrayBuffer();
    // Followed, as a browser would: every file the page loads by a relative path is there.
    const page = await fetch(`${svc.url}/docs`, { headers: auth('analyst') });
    expect(page.url).toBe(`${svc.url}/docs/`);
    const html = await page.text();
    const files = [...html.matchAll(/(?:src|href)="(\.\/[^"]+)"/g)].map((m) => m[1] ?? '');
    expect(files).toEqual(
      expect.arrayContaining(['./swagger-ui-bundle.js', './swagger-ui-init.js']),
    );
    for (const file of files) {
      const res = await fetch(new URL(file, page.url), { headers: auth('analyst') });
      expect([file, res.status]).toEqual([file, 200]);
      await res.arrayBuffer();
    }
  });

  it("the docs' files answer only GET and HEAD; other methods are handled as anywhere else", async () => {
    const put = await fetch(`${svc.url}/docs/swagger-ui-init.js`, {
      method: 'PUT',
      headers: { ...auth('analyst'), 'content-type': 'text/plain' },
      body: 'x',
    });
    expect(put.status).toBe(404);
    expect(await put.json()).toMatchObject({ error: { code: 'not_found' } });
    const del = await fetch(`${svc.url}/docs/swagger-ui-init.js`, {
      method: 'DELETE',
      headers: { ...auth('analyst'), 'content-type': 'application/json' },
      body: '{bad',
    });
    expect(del.status).toBe(400);
    expect(await del.json()).toMatchObject({ error: { code: 'invalid_json' } });
    const head = await fetch(`${svc.url}/docs/swagger-ui-init.js`, {
      method: 'HEAD',
      headers: auth('analyst'),
    });
    expect(head.status).toBe(200);
  });

  it('needs a key, of any role, unless OPENAPI_PUBLIC opens it', async () => {
    for (const path of ['/openapi.json', '/docs/', '/docs/swagger-ui-init.js']) {
      const none = await getJson(`${svc.url}${path}`);
      expect(none.status).toBe(401);
      expect(none.body).toMatchObject({ error: { code: 'unauthenticated' } });
      // getJson reads the body: an unread one keeps fetch's socket open past the file.
      expect((await getJson(`${svc.url}${path}`, auth('metrics'))).status).toBe(200);
      expect((await getJson(`${svc.url}${path}`, auth('ingest'))).status).toBe(200);
    }
    const open = await startService(neo4j, { API_KEYS, OPENAPI_PUBLIC: 'true' });
    try {
      expect((await getJson(`${open.url}/openapi.json`)).status).toBe(200);
      expect((await getJson(`${open.url}/docs/`)).status).toBe(200);
      // ...and the files the page loads, reached from `/docs` too
      const page = await fetch(`${open.url}/docs`);
      expect(page.url).toBe(`${open.url}/docs/`);
      await page.arrayBuffer();
      expect((await getJson(`${open.url}/docs/swagger-ui-bundle.js`)).status).toBe(200);
      const put = await fetch(`${open.url}/docs/swagger-ui-init.js`, { method: 'PUT' });
      expect(put.status).toBe(401);
      await put.arrayBuffer();
      // Only the docs open: every other route still needs its key.
      expect((await getJson(`${open.url}/v1/clusters`)).status).toBe(401);
    } finally {
      await open.stop();
    }
  });
});

describe('GET /metrics', () => {
  it('exposes per-route request latency, ingest counts and linkage run metrics', async () => {
    await getJson(`${svc.url}/v1/clusters`, auth('analyst'));
    await getJson(`${svc.url}/v1/accounts/ring:0/cluster`, auth('analyst'));
    await getJson(`${svc.url}/v1/accounts/nobody/cluster`, auth('analyst'));
    expect((await getJson(`${svc.url}/metrics`)).status).toBe(401);
    const res = await fetch(`${svc.url}/metrics`, { headers: auth('metrics') });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toMatch(
      /coterie_http_request_duration_seconds_bucket\{[^}]*route="\/v1\/clusters"[^}]*status="200"/,
    );
    expect(text).toMatch(
      /coterie_http_request_duration_seconds_count\{[^}]*route="\/v1\/accounts\/:id\/cluster"[^}]*status="404"/,
    );
    expect(text).not.toContain('nobody'); // templates, never raw ids
    expect(text).toMatch(/coterie_ingest_events_total\{outcome="written"\} \d+/);
    expect(text).toContain('# TYPE coterie_linkage_runs_total counter');
    expect(text).toContain('# TYPE coterie_linkage_run_duration_seconds histogram');
  });
});

describe('query parameters', () => {
  it('a route that takes some refuses one it does not know (a misspelt filter is not ignored)', async () => {
    const paths = [
      '/v1/clusters?flaged=true',
      '/v1/clusters/c-any?memberlimit=5',
      '/v1/verdicts?verdicts=benign',
      '/v1/linkage/runs?lmit=5',
    ];
    for (const p of paths) {
      const res = await getJson(`${svc.url}${p}`, auth('admin'));
      const error = res.body.error as { code: string; details: { message: string }[] };
      expect([p, res.status, error.code]).toEqual([p, 400, 'validation_failed']);
      const key = new URLSearchParams(p.split('?')[1]).keys().next().value as string;
      expect(JSON.stringify(error.details)).toContain(key);
    }
    const audit = await getJson(`${svc.url}/v1/audit?actions=cypher`, auth('admin'));
    expect(audit.status).toBe(400);
    const remove = await fetch(`${svc.url}/v1/allowlist?kind=ip&value=192.0.2.1&all=true`, {
      method: 'DELETE',
      headers: auth('admin'),
    });
    await remove.text(); // read: an unread body keeps the socket open
    expect(remove.status).toBe(400);
    // the entry in the body and in the query as well: 400, as the document says
    const both = await fetch(`${svc.url}/v1/allowlist?kind=ip&value=192.0.2.1`, {
      method: 'DELETE',
      headers: { ...auth('admin'), 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'ip', value: '192.0.2.1' }),
    });
    expect([both.status, JSON.stringify(await both.json())]).toEqual([
      400,
      expect.stringContaining('unknown parameters'),
    ]);
    // a body without `kind` is a body too, not ignored for the query's entry (review, 12-07)
    for (const body of [{ value: '5.6.7.8' }, { Kind: 'ip', value: '5.6.7.8' }, ['x']]) {
      const stray = await fetch(`${svc.url}/v1/allowlist?kind=ip&value=192.0.2.1`, {
        method: 'DELETE',
        headers: { ...auth('admin'), 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      await stray.text();
      expect([body, stray.status]).toEqual([body, 400]);
    }
    // The documented ones still work.
    const ok = await getJson(`${svc.url}/v1/clusters?flagged=true&limit=5`, auth('analyst'));
    expect(ok.status).toBe(200);
  });
});

describe('one error body everywhere', () => {
  it('404 route, 400 JSON, 400 validation, 400 path, 415 charset, 401, 403, 404 resource, 403 write_not_allowed', async () => {
    const cases = [
      await getJson(`${svc.url}/no/such/route`, auth('analyst')),
      await postJson(`${svc.url}/v1/cypher`, '{not json', auth('analyst')),
      await getJson(`${svc.url}/v1/clusters?limit=-1`, auth('analyst')),
      await getJson(`${svc.url}/v1/clusters/%zz`, auth('analyst')),
      await postJson(`${svc.url}/v1/cypher`, '{"query": "RETURN 1"}', {
        ...auth('analyst'),
        'content-type': 'application/json; charset=latin9',
      }),
      await postJson(`${svc.url}/v1/cypher`, '{"query": "RETURN 1"}', {
        ...auth('analyst'),
        'content-type': 'text/plain',
      }),
      await getJson(`${svc.url}/v1/clusters`),
      await getJson(`${svc.url}/v1/clusters`, auth('ingest')),
      await getJson(`${svc.url}/v1/clusters/none`, auth('analyst')),
      await postJson(`${svc.url}/v1/cypher`, { query: 'CREATE (n)' }, auth('analyst')),
    ];
    expect(cases.map((c) => [c.status, (c.body.error as { code: string }).code])).toEqual([
      [404, 'not_found'],
      [400, 'invalid_json'],
      [400, 'validation_failed'],
      [400, 'bad_request'],
      [415, 'unsupported_media_type'],
      [415, 'unsupported_media_type'],
      [401, 'unauthenticated'],
      [403, 'forbidden'],
      [404, 'not_found'],
      [403, 'write_not_allowed'],
    ]);
    // A body that is not sent as JSON is named as such, not reported as a missing body.
    expect((cases[5]?.body.error as { message: string }).message).toMatch(/application\/json/);
    for (const c of cases) {
      expect(Object.keys(c.body)).toEqual(['error']);
      const error = c.body.error as Record<string, unknown>;
      expect(typeof error.message).toBe('string');
      expect(Object.keys(error).every((k) => ['code', 'message', 'details'].includes(k))).toBe(
        true,
      );
    }
  });
});
