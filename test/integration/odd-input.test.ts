/**
 * Odd input on every route that reads or changes data: strange path segments
 * (NUL, encoded slashes, overlong UTF-8, 5,000 characters), repeated and bracketed
 * query parameters, and bodies of every JSON type, in three content types. No answer
 * may be a 5xx, and every error must have the one body {"error": {"code", …}}.
 */
import { runLinkage } from '../../src/linkage/runner';
import { startTestNeo4j, type TestNeo4j } from '../support/neo4j';
import { startService, type TestService } from '../support/service';
import { API_KEYS, KEYS, RING, ingestWorld } from '../support/analyst-fixtures';

let neo4j: TestNeo4j;
let svc: TestService;
let clusterId: string;

beforeAll(async () => {
  neo4j = await startTestNeo4j();
  svc = await startService(neo4j, {
    API_KEYS,
    LINKAGE_CRON: 'off',
    CURRENT_RUN_CHECK_MS: '0',
  });
  await ingestWorld(svc.url);
  expect((await runLinkage(svc.ctx, { trigger: 'api' })).status).toBe('succeeded');
  const res = await fetch(`${svc.url}/v1/clusters`, { headers: ADMIN });
  clusterId = ((await res.json()) as { clusters: { id: string }[] }).clusters[0]!.id;
});

afterAll(async () => {
  await svc?.stop();
  await neo4j?.stop();
});

const ADMIN = { authorization: `Bearer ${KEYS.admin}` };

const SEGMENTS = [
  '%00',
  'a%2Fb',
  '..',
  '%E2%9C%93',
  '%F0%9F%98%80',
  '%C0%AF', // overlong UTF-8
  "'",
  '%22',
  'x'.repeat(5000),
];
const QUERIES = [
  '',
  'limit=1&limit=2',
  'limit=1e3',
  'limit=%00',
  `cursor=${'A'.repeat(3000)}`,
  'minRisk=NaN',
  'flagged=TRUE',
  'since=2026-13-45T00:00:00Z',
  'cursor[a]=1',
  'limit[]=5',
  'memberLimit=-1',
  'verdict=x&verdict=y',
];
const BODIES = [
  'null',
  '[]',
  '"str"',
  '42',
  'true',
  '{"a":{"b":{"c":{"d":[[[[[]]]]]}}}}',
  '{"query": ["RETURN 1"]}',
  '{"query": "RETURN 1", "params": []}',
  '{"query": "RETURN 1", "params": {"x": {"y": [1, {"z": null}]}}}',
  `{"verdict": "benign", "note": "${'n'.repeat(5000)}"}`,
  '{"events": [null]}',
  '{"events": {}}',
  '{"kind": "ip", "value": ""}',
  '{"kind": "ip", "value": "1.2.3.4", "extra": 1}',
  '{"__proto__": {"x": 1}}',
  '{"constructor": {"prototype": {"x": 1}}}',
  '\uFEFF{}',
];
const CONTENT_TYPES = ['application/json', 'text/plain', 'application/json; charset=utf-16'];

const ROUTES: [string, string][] = [
  ['GET', '/v1/accounts/{x}/cluster'],
  ['GET', '/v1/accounts/{x}'],
  ['GET', '/v1/clusters'],
  ['GET', '/v1/clusters/{x}'],
  ['GET', '/v1/clusters/{x}/graph'],
  ['POST', '/v1/clusters/{x}/verdict'],
  ['GET', '/v1/verdicts'],
  ['GET', '/v1/audit'],
  ['GET', '/v1/investigations'],
  ['POST', '/v1/investigations/{x}'],
  ['POST', '/v1/cypher'],
  ['POST', '/v1/events'],
  ['GET', '/v1/linkage/runs'],
  ['GET', '/v1/linkage/runs/{x}'],
  ['POST', '/v1/linkage/runs'],
  ['GET', '/v1/allowlist'],
  ['POST', '/v1/allowlist'],
  ['DELETE', '/v1/allowlist'],
];

/** What goes wrong with one request, or null. */
async function problem(method: string, url: string, body?: string, type?: string) {
  const headers: Record<string, string> = { ...ADMIN };
  if (type) headers['content-type'] = type;
  const res = await fetch(url, { method, headers, body });
  const text = await res.text();
  if (res.status >= 500) return `${res.status} ${text.slice(0, 200)}`;
  if (res.status < 400) return null;
  try {
    const error = (JSON.parse(text) as { error?: { code?: unknown } }).error;
    return typeof error?.code === 'string' ? null : `${res.status} without an error code`;
  } catch {
    return `${res.status} with a body that is not JSON: ${text.slice(0, 100)}`;
  }
}

it('never answers 5xx, and every error has the one body', async () => {
  const segments = [...SEGMENTS, clusterId, RING[0], 'accounts-sharing-payment-method'];
  const found: string[] = [];
  let requests = 0;
  for (const [method, template] of ROUTES) {
    const paths = template.includes('{x}')
      ? segments.map((s) => template.replace('{x}', s as string))
      : [template];
    for (const path of paths) {
      for (const q of QUERIES) {
        const url = `${svc.url}${path}${q ? `?${q}` : ''}`;
        const bodies = method === 'GET' ? [undefined] : q === '' ? BODIES : ['{}'];
        for (const body of bodies) {
          for (const type of body === undefined ? [undefined] : CONTENT_TYPES) {
            requests++;
            const p = await problem(method, url, body, type);
            if (p) found.push(`${method} ${url.slice(0, 100)} ${type} ${body?.slice(0, 60)}: ${p}`);
          }
        }
      }
    }
  }
  expect(requests).toBeGreaterThan(3000);
  expect(found).toEqual([]);
}, 300_000);

it('a method no route takes is 404 whatever its body, not an error about the body', async () => {
  // Review, 12-04: PUT and PATCH bodies were parsed, so a bad one answered 400 or 415.
  for (const method of ['PUT', 'PATCH']) {
    for (const [body, type] of [
      ['{"a":', 'application/json'],
      ['a=1', 'application/x-www-form-urlencoded'],
    ]) {
      const res = await fetch(`${svc.url}/v1/clusters`, {
        method,
        headers: { ...ADMIN, 'content-type': type! },
        body,
      });
      const answer = (await res.json()) as { error: { code: string } };
      expect([method, type, res.status, answer.error.code]).toEqual([
        method,
        type,
        404,
        'not_found',
      ]);
    }
  }
  // OPTIONS: Express answered it itself, 200 text/plain listing the methods (review, 12-07)
  for (const [path, headers] of [
    ['/v1/allowlist', ADMIN],
    ['/healthz', {}],
    ['/v1/clusters', {}],
  ] as const) {
    const res = await fetch(`${svc.url}${path}`, { method: 'OPTIONS', headers });
    const answer = (await res.json()) as { error: { code: string } };
    expect([path, res.status, res.headers.get('allow'), answer.error.code]).toEqual([
      path,
      404,
      null,
      'not_found',
    ]);
  }
});

it('the routes above are every /v1 operation the OpenAPI document lists', async () => {
  const res = await fetch(`${svc.url}/openapi.json`, { headers: ADMIN });
  const doc = (await res.json()) as { paths: Record<string, Record<string, unknown>> };
  const documented = Object.entries(doc.paths)
    .filter(([template]) => template.startsWith('/v1/'))
    .flatMap(([template, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${template.replace(/\{[^}/]+\}/g, '{x}')}`),
    );
  expect(documented).toContain('POST /v1/linkage/runs');
  expect(ROUTES.map(([m, t]) => `${m} ${t}`).sort()).toEqual(documented.sort());
});
