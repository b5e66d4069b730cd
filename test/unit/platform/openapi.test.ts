/**
 * The query parameters the OpenAPI document lists are the ones the routes accept, as
 * the routes accept them: names, required, type, bounds, format and defaults, compared
 * with zod's own rendering of each route's schema (z.toJSONSchema of its input), not
 * the generator's. The routes refuse any parameter they do not know.
 */
import { z } from 'zod';
import { clusterDetailQuery, listClustersQuery } from '../../../src/clusters/schemas';
import { entryKeyInput, listQuery, runStatus } from '../../../src/linkage/schemas';
import { BODY_METHODS } from '../../../src/platform/http';
import { openApiDocument } from '../../../src/platform/openapi';
import { listAuditQuery, listVerdictsQuery } from '../../../src/verdicts/schemas';

const ROUTE_QUERIES: [string, string, z.ZodObject][] = [
  ['get', '/v1/linkage/runs', listQuery],
  ['delete', '/v1/allowlist', entryKeyInput],
  ['get', '/v1/clusters', listClustersQuery],
  ['get', '/v1/clusters/{id}', clusterDetailQuery],
  ['get', '/v1/verdicts', listVerdictsQuery],
  ['get', '/v1/audit', listAuditQuery],
];

type Parameter = {
  in: string;
  name: string;
  required?: boolean;
  schema?: Record<string, unknown>;
};
type Operation = {
  parameters?: Parameter[];
  description?: string;
  requestBody?: { required?: boolean; content: Record<string, { schema: unknown }> };
  responses: Record<string, unknown>;
};

/** What a route's query schema accepts, parameter by parameter, as zod renders its input. */
/** Whether a schema admits null: `type: 'null'`, a type list with 'null', or a null branch. */
function mayBeNull(schema: unknown): boolean {
  if (typeof schema !== 'object' || schema === null) return false;
  const s = schema as { type?: unknown; anyOf?: unknown[]; oneOf?: unknown[] };
  if (s.type === 'null' || (Array.isArray(s.type) && s.type.includes('null'))) return true;
  return [...(s.anyOf ?? []), ...(s.oneOf ?? [])].some(mayBeNull);
}

function accepted(schema: z.ZodObject) {
  const json = z.toJSONSchema(schema, { io: 'input' }) as {
    properties: Record<string, Record<string, unknown>>;
    required?: string[];
  };
  return Object.entries(json.properties)
    .map(([name, property]) => {
      // The generator states a date-time by its format alone, and leaves out the
      // safe-integer bound zod gives every .int().
      const { pattern: _pattern, ...rest } = property;
      if (rest.maximum === Number.MAX_SAFE_INTEGER) delete rest.maximum;
      return { name, required: json.required?.includes(name) ?? false, schema: rest };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

describe('documented query parameters', () => {
  const paths = openApiDocument().paths as Record<string, Record<string, Operation>>;
  const documented = (method: string, path: string) =>
    (paths[path]?.[method]?.parameters ?? [])
      .filter((p) => p.in === 'query')
      .map(({ name, required, schema }) => ({ name, required: required ?? false, schema }))
      .sort((a, b) => a.name.localeCompare(b.name));

  it.each(ROUTE_QUERIES)('%s %s lists exactly what the route parses', (method, path, schema) => {
    // DELETE /v1/allowlist takes the entry from a JSON body instead (below): there the
    // query's kind and value are optional.
    const expected = accepted(schema).map((p) =>
      path === '/v1/allowlist' ? { ...p, required: false } : p,
    );
    expect(documented(method, path)).toEqual(expected);
  });

  it.each([
    ['get', '/v1/clusters', 'limit', { default: 50 }],
    ['get', '/v1/clusters', 'cursor', { maxLength: 1000 }],
    ['get', '/v1/clusters/{id}', 'memberLimit', { default: 100 }],
    ['get', '/v1/clusters/{id}', 'memberCursor', { maxLength: 1000 }],
    ['get', '/v1/verdicts', 'since', { type: 'string', format: 'date-time' }],
    ['get', '/v1/verdicts', 'limit', { default: 100 }],
    ['get', '/v1/verdicts', 'cursor', { maxLength: 1000 }],
    ['get', '/v1/audit', 'limit', { default: 100 }],
    ['get', '/v1/audit', 'cursor', { maxLength: 1000 }],
  ])('%s %s: %s is %j', (method, path, name, expected) => {
    const param = documented(method, path).find((p) => p.name === name);
    expect(param?.schema).toEqual(expect.objectContaining(expected));
  });

  it('query types are never null: a query value is a string', () => {
    for (const [method, path] of ROUTE_QUERIES)
      for (const p of documented(method, path))
        expect([method, path, p.name, typeof p.schema?.type, mayBeNull(p.schema)]).toEqual([
          method,
          path,
          p.name,
          'string',
          false,
        ]);
  });

  it('DELETE /v1/allowlist: the entry as the query or as a JSON body, as the route reads it', () => {
    const op = paths['/v1/allowlist']?.delete as Operation;
    expect(documented('delete', '/v1/allowlist').map((p) => [p.name, p.required])).toEqual([
      ['kind', false],
      ['value', false],
    ]);
    expect(op.requestBody?.required).toBe(false);
    expect(op.requestBody?.content['application/json']?.schema).toEqual(
      expect.objectContaining({ required: ['kind', 'value'] }),
    );
    expect(op.description).toMatch(/query string.*required.*unless the body/);
    expect(op.description).toMatch(/any body but none or `\{\}` is taken as the entry/);
    expect(op.description).toMatch(/the query must then be empty \(400/);
  });

  it('marks a body required where the route refuses its absence (400), optional where it reads {} (review, 12-06)', () => {
    const body = (method: string, path: string) =>
      (paths[path]?.[method as keyof (typeof paths)[string]] as Operation).requestBody?.required;
    for (const [method, path] of [
      ['post', '/v1/events'],
      ['post', '/v1/allowlist'],
      ['post', '/v1/clusters/{id}/verdict'],
      ['post', '/v1/cypher'],
    ] as const)
      expect([method, path, body(method, path)]).toEqual([method, path, true]);
    // these read a missing body as {}
    expect(body('post', '/v1/linkage/runs')).not.toBe(true);
    expect(body('post', '/v1/investigations/{name}')).not.toBe(true);
  });

  it('no other operation documents query parameters', () => {
    const withQuery = Object.entries(paths).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([, op]) => (op.parameters ?? []).some((p) => p.in === 'query'))
        .map(([method]) => `${method} ${path}`),
    );
    expect(withQuery.sort()).toEqual(ROUTE_QUERIES.map(([m, p]) => `${m} ${p}`).sort());
  });
});

describe('documented failures every route of a kind can answer with', () => {
  const ops = Object.entries(
    openApiDocument().paths as Record<string, Record<string, Operation>>,
  ).flatMap(([path, byMethod]) => Object.entries(byMethod).map(([m, op]) => ({ m, path, op })));
  const statuses = (op: Operation) => Object.keys(op.responses);

  it('500 internal on every operation: any route can fail on a fault of ours (review, 12-06)', () => {
    for (const { m, path, op } of ops)
      expect([m, path, statuses(op)]).toEqual([m, path, expect.arrayContaining(['500'])]);
    expect(ops.length).toBeGreaterThan(20);
  });

  it('400, 413 and 415 on every method whose body is parsed; 400 wherever there is a path parameter', () => {
    const bodyOps = ops.filter(({ m }) => BODY_METHODS.includes(m.toUpperCase()));
    // The body reading routes: every POST, and DELETE /v1/allowlist (body or query).
    expect(bodyOps.map(({ m, path }) => `${m} ${path}`)).toEqual(
      expect.arrayContaining(['delete /v1/allowlist', 'post /v1/cypher', 'post /v1/events']),
    );
    for (const { m, path, op } of bodyOps)
      expect([m, path, statuses(op)]).toEqual([
        m,
        path,
        expect.arrayContaining(['400', '413', '415']),
      ]);
    for (const { m, path, op } of ops) {
      // A documented body on a method whose body is not parsed would be a lie.
      if (op.requestBody)
        expect([m, path, BODY_METHODS.includes(m.toUpperCase())]).toEqual([m, path, true]);
      if (path.includes('{'))
        expect([m, path, statuses(op)]).toEqual([m, path, expect.arrayContaining(['400'])]);
    }
    expect(
      ops.find((o) => o.m === 'delete' && o.path === '/v1/allowlist')?.op.requestBody,
    ).toBeTruthy();
  });

  it('422 and 503 on every route that reads or writes Neo4j, 429 and 504 on analyst queries', () => {
    for (const { m, path, op } of ops) {
      // The catalog of investigations is held in memory; /readyz answers 503 itself.
      const touchesNeo4j = !['/healthz', '/metrics', '/readyz', '/v1/investigations'].includes(
        path,
      );
      if (touchesNeo4j)
        expect([m, path, statuses(op)]).toEqual([m, path, expect.arrayContaining(['422', '503'])]);
      else expect([m, path, statuses(op)]).toEqual([m, path, expect.not.arrayContaining(['422'])]);
    }
    for (const path of ['/v1/cypher', '/v1/investigations/{name}']) {
      const op = ops.find((o) => o.path === path)?.op as Operation;
      expect(statuses(op)).toEqual(expect.arrayContaining(['429', '504']));
    }
    for (const path of ['/v1/accounts/{id}', '/v1/clusters/{id}/graph', '/v1/audit']) {
      expect(statuses(ops.find((o) => o.path === path)?.op as Operation)).toContain('504');
    }
    // An analyst's or metrics key's batches count toward its rate limit (review, 12-05).
    const ingest = ops.find((o) => o.m === 'post' && o.path === '/v1/events')?.op as Operation;
    expect(statuses(ingest)).toContain('429');
  });
});

it('declares Retry-After on every 429 and 503, and the rate limit headers on every answer behind a key', () => {
  type Responses = Record<string, { headers?: Record<string, { required?: boolean }> }>;
  const doc = openApiDocument() as unknown as {
    paths: Record<string, Record<string, { responses: Responses; security?: unknown[] }>>;
  };
  const seen: string[] = [];
  let keyedAnswers = 0;
  for (const [path, methods] of Object.entries(doc.paths))
    for (const [m, op] of Object.entries(methods))
      for (const [status, response] of Object.entries(op.responses)) {
        const headers = Object.keys(response.headers ?? {});
        // not on a 401: the limit counts only requests with a known key
        const limit = op.security && status !== '401' ? ['ratelimit', 'ratelimit-policy'] : [];
        // every answer the limit counted carries its headers (review, 12-07: only the 429s said so)
        expect([m, path, status, headers]).toEqual([
          m,
          path,
          status,
          expect.arrayContaining(limit),
        ]);
        for (const h of limit) expect(response.headers?.[h]?.required ?? false).toBe(false);
        if (op.security) keyedAnswers++;
        if (status !== '429' && status !== '503') continue;
        seen.push(status);
        expect([m, path, status, headers.filter((h) => !limit.includes(h)).sort()]).toEqual([
          m,
          path,
          status,
          ['retry-after'],
        ]);
        expect(response.headers?.['retry-after']?.required).toBe(true);
      }
  expect(seen).toContain('429');
  expect(seen).toContain('503');
  expect(keyedAnswers).toBeGreaterThan(50);
});

it("gives the investigation's {name} the pattern the route accepts", () => {
  type Param = { in: string; name: string; schema?: { pattern?: string } };
  const paths = openApiDocument().paths as Record<string, Record<string, { parameters: Param[] }>>;
  const name = paths['/v1/investigations/{name}']?.post?.parameters.find((p) => p.name === 'name');
  expect(name?.schema?.pattern).toBe('^[a-z0-9-]{1,100}$');
});

it('publishes ClusterSummary as an object, nullable only where it can be null (Membership.cluster)', () => {
  const schemas = openApiDocument().components?.schemas as Record<string, Record<string, unknown>>;
  expect(schemas.ClusterSummary?.type).toBe('object');
  const membership = schemas.Membership?.properties as Record<string, unknown>;
  expect(membership.cluster).toEqual({
    anyOf: [{ $ref: '#/components/schemas/ClusterSummary' }, { type: 'null' }],
  });
  // no shared component is nullable as a whole: a reference to one would be too
  expect(mayBeNull(membership.cluster)).toBe(true); // the check below can see a null branch
  for (const [name, schema] of Object.entries(schemas))
    expect([name, mayBeNull(schema)]).toEqual([name, false]);
});

describe('the linkage run record', () => {
  /** A succeeded run whose stats.publish has `housekeeping` (prune, pruneMs). */
  const run = (housekeeping: Record<string, unknown>) => ({
    id: 'r1',
    status: 'succeeded',
    phase: 'done',
    progress: 1,
    trigger: 'api',
    seed: 42,
    current: true,
    startedAt: '2026-12-02T06:46:00.000Z',
    finishedAt: '2026-12-02T06:48:00.000Z',
    params: { seed: 42 },
    timings: { publish: 5400, total: 126800 },
    stats: {
      clusters: 866,
      publish: { clustersWritten: 866, membershipsWritten: 24000, batches: 3, ...housekeeping },
    },
    dissolved: [],
    error: null,
    errorDetail: null,
  });

  it('takes publish.prune as null: housekeeping failed, the run still succeeded (publish.ts)', () => {
    expect(runStatus.safeParse(run({ prune: null, pruneMs: 12 })).success).toBe(true);
    const counts = { runsPruned: 1, membershipsPruned: 20, failedRunsCleaned: 0 };
    expect(runStatus.safeParse(run({ prune: counts, pruneMs: 12 })).success).toBe(true);
    expect(runStatus.safeParse(run({ prune: 'none', pruneMs: 12 })).success).toBe(false);
  });

  it('takes publish without prune: the housekeeping after the swap has not finished yet', () => {
    expect(runStatus.safeParse(run({})).success).toBe(true);
  });
});

describe("the console's roles", () => {
  // Review, 12-07: the document said analyst and admin whatever CYPHER_CONSOLE was.
  it.each([
    ['analyst', ['admin', 'analyst'], 'Roles: admin, analyst ('],
    ['admin', ['admin'], 'Roles: admin ('],
    ['off', [], 'Roles: none, turned off'],
  ] as const)('follow CYPHER_CONSOLE=%s', (setting, roles, said) => {
    const paths = openApiDocument(setting).paths as Record<
      string,
      Record<string, { 'x-roles'?: string[]; description?: string }>
    >;
    const op = paths['/v1/cypher']!.post!;
    expect(op['x-roles']).toEqual(roles);
    expect(op.description).toContain(said);
    // the other operations do not depend on it
    expect(paths['/v1/clusters']!.get!['x-roles']).toEqual(['admin', 'analyst']);
  });
});
