/**
 * The served OpenAPI document against what the service really answers. Every route
 * is called over HTTP on a real Neo4j with a real linkage run, in its successes and
 * its usual failures; each status must be one the document lists for that operation,
 * and each JSON body must validate (Ajv, JSON Schema 2020-12) against the schema the
 * document gives for it, with no undocumented fields: a client generated from
 * /openapi.json must be able to read every answer.
 */
import { request } from 'node:http';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { startTestNeo4j, type TestNeo4j } from '../support/neo4j';
import { startService, type TestService } from '../support/service';
import { API_KEYS, KEYS, RING, ingestWorld, worldEvents } from '../support/analyst-fixtures';

let neo4j: TestNeo4j;
let svc: TestService;

type Role = keyof typeof KEYS;
interface Call {
  method: 'get' | 'post' | 'delete';
  /** the documented path template, e.g. /v1/clusters/{id} */
  template: string;
  status: number;
  contentType: string | null;
  body: unknown;
  /** the answer's header names, lower case */
  headerNames: string[];
}

const calls: Call[] = [];

/** Calls the service and keeps the answer for the checks at the end. */
async function call(
  method: Call['method'],
  template: string,
  opts: {
    path?: string;
    role?: Role;
    body?: unknown;
    query?: Record<string, string>;
    headers?: Record<string, string>;
  } = {},
): Promise<Call> {
  const path = opts.path ?? template;
  const qs = opts.query ? `?${new URLSearchParams(opts.query)}` : '';
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.role) headers.authorization = `Bearer ${KEYS[opts.role]}`;
  if (opts.body !== undefined) headers['content-type'] ??= 'application/json';
  const res = await fetch(`${svc.url}${path}${qs}`, {
    method: method.toUpperCase(),
    headers,
    body:
      opts.body === undefined
        ? undefined
        : typeof opts.body === 'string'
          ? opts.body
          : JSON.stringify(opts.body),
  });
  const contentType = res.headers.get('content-type');
  const text = await res.text();
  const body = contentType?.includes('application/json') && text ? JSON.parse(text) : text;
  const headerNames = [...res.headers.keys()];
  const c: Call = { method, template, status: res.status, contentType, body, headerNames };
  calls.push(c);
  return c;
}

/**
 * A request with a body whatever its method: fetch refuses a GET with one, which curl
 * and other clients send (`curl -X GET -d …`).
 */
async function callWithBody(
  method: Call['method'],
  template: string,
  opts: { role: Role; body: string; contentType: string },
): Promise<Call> {
  const url = new URL(`${svc.url}${template}`);
  const { status, headers, text } = await new Promise<{
    status: number;
    headers: Record<string, unknown>;
    text: string;
  }>((resolve, reject) => {
    const req = request(
      url,
      {
        method: method.toUpperCase(),
        headers: {
          authorization: `Bearer ${KEYS[opts.role]}`,
          'content-type': opts.contentType,
          'content-length': Buffer.byteLength(opts.body),
        },
      },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (data += chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: data }),
        );
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
  const contentType = (headers['content-type'] as string | undefined) ?? null;
  const body = contentType?.includes('application/json') && text ? JSON.parse(text) : text;
  const c: Call = {
    method,
    template,
    status,
    contentType,
    body,
    headerNames: Object.keys(headers),
  };
  calls.push(c);
  return c;
}

/**
 * Starts a linkage run over the API and polls its record until it has ended, its
 * housekeeping after the swap too (which adds `stats.publish.pruneMs`): a later read of
 * the runs list then sees it no more changed.
 */
async function runToTheEnd(): Promise<{ id: string; dissolved: unknown[] }> {
  const started = await call('post', '/v1/linkage/runs', { role: 'admin', body: {} });
  expect(started.status).toBe(202);
  const { runId } = started.body as { runId: string };
  for (;;) {
    const run = await call('get', '/v1/linkage/runs/{id}', {
      path: `/v1/linkage/runs/${runId}`,
      role: 'analyst',
    });
    const body = run.body as {
      id: string;
      status: string;
      dissolved: unknown[];
      stats: { publish?: { pruneMs?: number } };
    };
    if (body.status !== 'running') {
      expect(body.status).toBe('succeeded');
      if (body.stats.publish?.pruneMs !== undefined) return body;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  neo4j = await startTestNeo4j();
  svc = await startService(neo4j, {
    API_KEYS,
    LINKAGE_CRON: 'off',
    CURRENT_RUN_CHECK_MS: '0',
    INGEST_MAX_EVENTS: '50',
  });
});

afterAll(async () => {
  await svc?.stop();
  await neo4j?.stop();
});

describe('every answer is one the served OpenAPI document describes', () => {
  let runId: string;
  let ringCluster: string;

  // These tests record calls for the last one, which checks every answer against the
  // document; each also checks its own statuses, so a wrong one fails under its name.
  it('before any linkage run', async () => {
    const statuses = [
      await call('get', '/healthz'),
      await call('get', '/readyz'),
      await call('get', '/metrics', { role: 'metrics' }),
      await call('get', '/metrics'),
      await call('get', '/v1/clusters', { role: 'analyst' }),
      await call('get', '/v1/linkage/runs', { role: 'analyst' }),
      await call('get', '/v1/accounts/{id}/cluster', {
        path: '/v1/accounts/ring:0/cluster',
        role: 'analyst',
      }),
    ].map((c) => c.status);
    expect(statuses).toEqual([200, 200, 200, 401, 200, 200, 404]);
  });

  it('ingest', async () => {
    await ingestWorld(svc.url);
    const events = worldEvents().slice(0, 3);
    expect((await call('post', '/v1/events', { role: 'ingest', body: { events } })).status).toBe(
      200,
    );
    await call('post', '/v1/events', { role: 'ingest', body: { events: [{ type: 'nope' }] } });
    await call('post', '/v1/events', { role: 'ingest', body: '{not json' });
    await call('post', '/v1/events', {
      role: 'ingest',
      body: { events: Array.from({ length: 51 }, () => events[0]) },
    });
    await call('post', '/v1/events', { body: { events } });
    await call('post', '/v1/events', { role: 'analyst', body: { events } });
    await call('post', '/v1/events', {
      role: 'ingest',
      body: { events },
      headers: { 'content-type': 'application/json; charset=latin1' },
    });
  });

  it('a linkage run, followed to its end', async () => {
    runId = (await runToTheEnd()).id;
    const statuses = [
      await call('get', '/v1/linkage/runs', { role: 'analyst' }),
      await call('get', '/v1/linkage/runs', { role: 'analyst', query: { limit: '0' } }),
      await call('get', '/v1/linkage/runs/{id}', {
        path: '/v1/linkage/runs/r-nope',
        role: 'analyst',
      }),
      await call('get', '/v1/linkage/runs/{id}', {
        path: '/v1/linkage/runs/%20',
        role: 'analyst',
      }),
      await call('post', '/v1/linkage/runs', { role: 'admin', body: { nope: 1 } }),
      await call('post', '/v1/linkage/runs', { role: 'analyst', body: {} }),
    ].map((c) => c.status);
    expect(statuses).toEqual([200, 400, 404, 404, 400, 403]);
  });

  it('memberships, accounts and clusters', async () => {
    const member = await call('get', '/v1/accounts/{id}/cluster', {
      path: `/v1/accounts/${RING[0]}/cluster`,
      role: 'analyst',
    });
    const membership = member.body as { runId: string; cluster: { id: string } };
    expect(membership.runId).toBe(runId);
    ringCluster = membership.cluster.id;
    await call('get', '/v1/accounts/{id}/cluster', {
      path: '/v1/accounts/solo:0/cluster',
      role: 'analyst',
    });
    await call('get', '/v1/accounts/{id}/cluster', {
      path: '/v1/accounts/nobody/cluster',
      role: 'analyst',
    });
    for (const id of [RING[0], 'ben:0', 'solo:0', 'nobody']) {
      await call('get', '/v1/accounts/{id}', { path: `/v1/accounts/${id}`, role: 'analyst' });
    }
    const page = await call('get', '/v1/clusters', { role: 'analyst', query: { limit: '1' } });
    const cursor = (page.body as { nextCursor: string | null }).nextCursor;
    if (cursor)
      await call('get', '/v1/clusters', { role: 'analyst', query: { limit: '1', cursor } });
    await call('get', '/v1/clusters', {
      role: 'analyst',
      query: { flagged: 'true', minRisk: '0.1' },
    });
    await call('get', '/v1/clusters', { role: 'analyst', query: { minRisk: '2' } });
    await call('get', '/v1/clusters', { role: 'analyst', query: { cursor: 'garbage' } });
    const detail = await call('get', '/v1/clusters/{id}', {
      path: `/v1/clusters/${ringCluster}`,
      role: 'analyst',
      query: { memberLimit: '2' },
    });
    expect(detail.status).toBe(200);
    const memberCursor = (detail.body as { nextMemberCursor?: string | null }).nextMemberCursor;
    if (memberCursor) {
      await call('get', '/v1/clusters/{id}', {
        path: `/v1/clusters/${ringCluster}`,
        role: 'analyst',
        query: { memberLimit: '2', memberCursor },
      });
    }
    await call('get', '/v1/clusters/{id}', { path: '/v1/clusters/nope', role: 'analyst' });
    await call('get', '/v1/clusters/{id}/graph', {
      path: `/v1/clusters/${ringCluster}/graph`,
      role: 'analyst',
    });
    await call('get', '/v1/clusters/{id}/graph', {
      path: '/v1/clusters/nope/graph',
      role: 'analyst',
    });
    await call('get', '/v1/clusters/{id}/graph', {
      path: '/v1/clusters/%E0%A4%A/graph',
      role: 'analyst',
    });
  });

  it('verdicts, audit and the allow-list', async () => {
    const verdictPath = `/v1/clusters/${ringCluster}/verdict`;
    const template = '/v1/clusters/{id}/verdict';
    await call('post', template, {
      path: verdictPath,
      role: 'analyst',
      body: { verdict: 'confirmed', note: 'planted ring' },
    });
    await call('post', template, {
      path: verdictPath,
      role: 'analyst',
      body: { verdict: 'maybe' },
    });
    await call('post', template, {
      path: '/v1/clusters/nope/verdict',
      role: 'analyst',
      body: { verdict: 'benign' },
    });
    await call('get', '/v1/verdicts', { role: 'analyst' });
    await call('get', '/v1/verdicts', {
      role: 'analyst',
      query: { verdict: 'confirmed', limit: '1' },
    });
    await call('get', '/v1/audit', { role: 'admin' });
    await call('get', '/v1/audit', { role: 'analyst' });

    const entry = { kind: 'ip', value: '192.0.2.99', note: 'test egress' };
    await call('post', '/v1/allowlist', { role: 'admin', body: entry });
    await call('post', '/v1/allowlist', { role: 'admin', body: entry });
    await call('post', '/v1/allowlist', { role: 'admin', body: { kind: 'nope', value: 'x' } });
    await call('get', '/v1/allowlist', { role: 'analyst' });
    await call('delete', '/v1/allowlist', {
      role: 'admin',
      query: { kind: 'ip', value: '192.0.2.99' },
    });
    await call('delete', '/v1/allowlist', {
      role: 'admin',
      query: { kind: 'ip', value: '192.0.2.99' },
    });
    // The entry as a JSON body, and as curl sends it by default (a form: 415).
    await call('post', '/v1/allowlist', { role: 'admin', body: entry });
    const form = await callWithBody('delete', '/v1/allowlist', {
      role: 'admin',
      body: 'kind=ip&value=192.0.2.99',
      contentType: 'application/x-www-form-urlencoded',
    });
    expect([form.status, (form.body as { error: { code: string } }).error.code]).toEqual([
      415,
      'unsupported_media_type',
    ]);
    const removed = await call('delete', '/v1/allowlist', {
      role: 'admin',
      body: { kind: 'ip', value: '192.0.2.99' },
    });
    expect(removed.status).toBe(204);
    await call('delete', '/v1/allowlist', { role: 'admin', body: '{oops' });
    await call('post', '/v1/allowlist', {
      role: 'admin',
      body: entry,
      headers: { 'content-type': 'application/json; charset=latin1' },
    });
    // A GET's body is not read: neither a form nor broken JSON changes its answer.
    for (const [body, contentType] of [
      ['kind=ip', 'application/x-www-form-urlencoded'],
      ['{oops', 'application/json'],
    ] as const) {
      const res = await callWithBody('get', '/v1/allowlist', {
        role: 'analyst',
        body,
        contentType,
      });
      expect([body, res.status]).toEqual([body, 200]);
    }
  });

  it('a second run after a benign verdict retires the ring cluster', async () => {
    const verdict = await call('post', '/v1/clusters/{id}/verdict', {
      path: `/v1/clusters/${ringCluster}/verdict`,
      role: 'admin',
      body: { verdict: 'benign', note: 'our own load test', allowlistSharedValues: true, runId },
    });
    expect(verdict.status).toBe(201);
    const second = await runToTheEnd();
    expect(second.dissolved.length).toBeGreaterThan(0);
    const old = await call('get', '/v1/clusters/{id}', {
      path: `/v1/clusters/${ringCluster}`,
      role: 'analyst',
    });
    expect([old.status, (old.body as { current: boolean }).current]).toEqual([200, false]);
    await call('get', '/v1/accounts/{id}/cluster', {
      path: `/v1/accounts/${RING[0]}/cluster`,
      role: 'analyst',
    });
    await call('get', '/v1/linkage/runs', { role: 'analyst' });
    await call('get', '/v1/allowlist', { role: 'analyst' });
  });

  it('investigations and ad-hoc Cypher', async () => {
    const catalog = await call('get', '/v1/investigations', { role: 'analyst' });
    const investigations = (
      catalog.body as {
        investigations: {
          name: string;
          params: { name: string; type: string; required: boolean }[];
        }[];
      }
    ).investigations;
    expect(investigations.length).toBeGreaterThan(0);
    const valueFor: Record<string, unknown> = {
      accountId: RING[0],
      fromAccountId: RING[0],
      toAccountId: 'ben:0',
      clusterId: ringCluster,
      address: '203.0.113.10',
      model: 'model-new',
      fingerprint: '0123456789abcdef',
      from: '2026-01-01T00:00:00Z',
      to: '2026-03-01T00:00:00Z',
    };
    for (const inv of investigations) {
      const body: Record<string, unknown> = {};
      for (const p of inv.params) if (p.required) body[p.name] = valueFor[p.name];
      const res = await call('post', '/v1/investigations/{name}', {
        path: `/v1/investigations/${inv.name}`,
        role: 'analyst',
        body,
      });
      expect([inv.name, res.status]).toEqual([inv.name, 200]);
    }
    await call('post', '/v1/investigations/{name}', {
      path: '/v1/investigations/no-such-thing',
      role: 'analyst',
      body: {},
    });
    await call('post', '/v1/investigations/{name}', {
      path: `/v1/investigations/${investigations[0]?.name}`,
      role: 'analyst',
      body: { limit: 'lots' },
    });
    await call('post', '/v1/cypher', {
      role: 'analyst',
      body: { query: 'MATCH (a:Account) RETURN a.id AS id, a LIMIT $n', params: { n: 2 } },
    });
    await call('post', '/v1/cypher', { role: 'analyst', body: { query: 'CREATE (n)' } });
    await call('post', '/v1/cypher', { role: 'analyst', body: { query: 'RETURN' } });
    await call('post', '/v1/cypher', { role: 'analyst', body: {} });
  });

  it('every /v1 route refuses a query parameter it does not know, before doing anything', async () => {
    const refused: [method: Call['method'], template: string, opts: Parameters<typeof call>[2]][] =
      [
        ['get', '/v1/clusters', { role: 'analyst' }],
        ['get', '/v1/clusters/{id}', { path: `/v1/clusters/${ringCluster}`, role: 'analyst' }],
        [
          'get',
          '/v1/clusters/{id}/graph',
          { path: `/v1/clusters/${ringCluster}/graph`, role: 'analyst' },
        ],
        [
          'post',
          '/v1/clusters/{id}/verdict',
          {
            path: `/v1/clusters/${ringCluster}/verdict`,
            role: 'analyst',
            body: { verdict: 'confirmed', note: 'with a stray query' },
          },
        ],
        ['get', '/v1/verdicts', { role: 'analyst' }],
        ['get', '/v1/audit', { role: 'admin' }],
        ['get', '/v1/accounts/{id}', { path: `/v1/accounts/${RING[0]}`, role: 'analyst' }],
        [
          'get',
          '/v1/accounts/{id}/cluster',
          { path: `/v1/accounts/${RING[0]}/cluster`, role: 'analyst' },
        ],
        ['get', '/v1/linkage/runs', { role: 'analyst' }],
        ['get', '/v1/linkage/runs/{id}', { path: `/v1/linkage/runs/${runId}`, role: 'analyst' }],
        ['post', '/v1/linkage/runs', { role: 'admin', body: {} }],
        ['get', '/v1/allowlist', { role: 'analyst' }],
        ['post', '/v1/allowlist', { role: 'admin', body: { kind: 'org', value: 'stray-query' } }],
        [
          'delete',
          '/v1/allowlist',
          { role: 'admin', query: { kind: 'org', value: 'stray-query' } },
        ],
        // The entry in the body: the query still takes nothing.
        ['delete', '/v1/allowlist', { role: 'admin', body: { kind: 'org', value: 'kept-entry' } }],
        ['post', '/v1/events', { role: 'ingest', body: { events: worldEvents().slice(0, 1) } }],
        ['get', '/v1/investigations', { role: 'analyst' }],
        [
          'post',
          '/v1/investigations/{name}',
          { path: '/v1/investigations/no-such-thing', role: 'analyst', body: {} },
        ],
        ['post', '/v1/cypher', { role: 'analyst', body: { query: 'RETURN 1 AS one' } }],
      ];
    const added = await call('post', '/v1/allowlist', {
      role: 'admin',
      body: { kind: 'org', value: 'kept-entry' },
    });
    expect(added.status).toBe(201);
    const runsBefore = (await call('get', '/v1/linkage/runs', { role: 'analyst' })).body;
    const verdictsBefore = (await call('get', '/v1/verdicts', { role: 'analyst' })).body;
    for (const [method, template, opts] of refused) {
      const res = await call(method, template, { ...opts, query: { ...opts?.query, nope: '1' } });
      expect([
        method,
        template,
        res.status,
        (res.body as { error?: { code?: string } }).error?.code,
      ]).toEqual([method, template, 400, 'validation_failed']);
    }
    // Refused before anything ran: no run started, no verdict, no allow-list entry.
    expect((await call('get', '/v1/linkage/runs', { role: 'analyst' })).body).toEqual(runsBefore);
    expect((await call('get', '/v1/verdicts', { role: 'analyst' })).body).toEqual(verdictsBefore);
    const allowlist = await call('get', '/v1/allowlist', { role: 'analyst' });
    expect(JSON.stringify(allowlist.body)).not.toContain('stray-query');
    expect(JSON.stringify(allowlist.body)).toContain('kept-entry');
    // Every documented /v1 operation is in the list above.
    const doc = (await (
      await fetch(`${svc.url}/openapi.json`, {
        headers: { authorization: `Bearer ${KEYS.analyst}` },
      })
    ).json()) as OpenApiDoc;
    const documented = Object.entries(doc.paths)
      .filter(([template]) => template.startsWith('/v1/'))
      .flatMap(([template, ops]) => Object.keys(ops).map((m) => `${m} ${template}`));
    expect([...new Set(refused.map(([m, t]) => `${m} ${t}`))].sort()).toEqual(documented.sort());
  });

  it('each status is documented for its operation, each body matches its schema', async () => {
    const doc = (await (
      await fetch(`${svc.url}/openapi.json`, {
        headers: { authorization: `Bearer ${KEYS.analyst}` },
      })
    ).json()) as OpenApiDoc;
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema(closeObjects(doc) as object, 'openapi.json');

    const problems: string[] = [];
    const seen = new Set<string>();
    for (const c of calls) {
      const where = `${c.method.toUpperCase()} ${c.template} → ${c.status}`;
      seen.add(`${c.method.toUpperCase()} ${c.template}`);
      const op = doc.paths[c.template]?.[c.method];
      if (!op) {
        problems.push(`${where}: operation not documented`);
        continue;
      }
      const response = op.responses[String(c.status)];
      if (!response) {
        problems.push(`${where}: status not documented`);
        continue;
      }
      for (const [name, header] of Object.entries(response.headers ?? {}))
        if (header.required && !c.headerNames.includes(name.toLowerCase()))
          problems.push(`${where}: no ${name} header, documented as always sent`);
      if (!response.content?.['application/json']) {
        if (c.contentType?.includes('application/json') && c.body !== '')
          problems.push(`${where}: JSON body where the document has none`);
        continue;
      }
      if (!c.contentType?.includes('application/json')) {
        problems.push(`${where}: ${c.contentType ?? 'no'} body, documented as JSON`);
        continue;
      }
      const validate = validator(ajv, c.template, c.method, String(c.status));
      if (!validate(c.body)) {
        const errs = (validate.errors ?? [])
          .map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`)
          .join('; ');
        problems.push(`${where}: ${errs}`);
      }
    }
    expect(problems).toEqual([]);
    // Every documented operation was called at least once.
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`),
    );
    expect(documented.filter((o) => !seen.has(o))).toEqual([]);
    // And the failures this file provokes are among the answers.
    const statuses = new Set(calls.map((c) => c.status));
    for (const s of [200, 201, 202, 204, 400, 401, 403, 404, 413, 415])
      expect([s, statuses.has(s)]).toEqual([s, true]);
  });
});

interface OpenApiDoc {
  paths: Record<
    string,
    Record<
      string,
      {
        responses: Record<
          string,
          { content?: Record<string, unknown>; headers?: Record<string, { required?: boolean }> }
        >;
      }
    >
  >;
}

const pointer = (...parts: string[]) =>
  parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

function validator(
  ajv: Ajv2020,
  template: string,
  method: string,
  status: string,
): ValidateFunction {
  const ref = `openapi.json#/${pointer('paths', template, method, 'responses', status, 'content', 'application/json', 'schema')}`;
  return ajv.getSchema(ref) ?? ajv.compile({ $ref: ref });
}

/**
 * The document with every object schema that lists properties and says nothing about
 * others closed (unevaluatedProperties: false), so an undocumented field fails too;
 * a nullable one (type ["object", "null"]) as well.
 */
function closeObjects(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(closeObjects);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = closeObjects(v);
  const isObject =
    out.type === 'object' || (Array.isArray(out.type) && out.type.includes('object'));
  if (
    isObject &&
    typeof out.properties === 'object' &&
    out.additionalProperties === undefined &&
    out.unevaluatedProperties === undefined
  )
    out.unevaluatedProperties = false;
  return out;
}
