/**
 * The query parameters the OpenAPI document lists are the ones the routes accept:
 * the document describes them with its own zod objects (the routes' schemas transform
 * their input, which the generator cannot render), so the two could drift, and the
 * routes refuse any parameter they do not know.
 */
import type { z } from 'zod';
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

type Operation = {
  parameters?: { in: string; name: string }[];
  requestBody?: unknown;
  responses: Record<string, unknown>;
};

describe('documented query parameters', () => {
  const paths = openApiDocument().paths as Record<string, Record<string, Operation>>;

  it.each(ROUTE_QUERIES)('%s %s lists exactly what the route parses', (method, path, schema) => {
    const documented = (paths[path]?.[method]?.parameters ?? [])
      .filter((p) => p.in === 'query')
      .map((p) => p.name);
    expect(documented.sort()).toEqual(Object.keys(schema.shape).sort());
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
  });
});

it("gives the investigation's {name} the pattern the route accepts", () => {
  type Param = { in: string; name: string; schema?: { pattern?: string } };
  const paths = openApiDocument().paths as Record<string, Record<string, { parameters: Param[] }>>;
  const name = paths['/v1/investigations/{name}']?.post?.parameters.find((p) => p.name === 'name');
  expect(name?.schema?.pattern).toBe('^[a-z0-9-]{1,100}$');
});

describe('the linkage run record', () => {
  const run = (prune: unknown) => ({
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
      publish: { clustersWritten: 866, membershipsWritten: 24000, batches: 3, prune, pruneMs: 12 },
    },
    dissolved: [],
    error: null,
  });

  it('takes publish.prune as null: housekeeping failed, the run still succeeded (publish.ts)', () => {
    expect(runStatus.safeParse(run(null)).success).toBe(true);
    const counts = { runsPruned: 1, membershipsPruned: 20, failedRunsCleaned: 0 };
    expect(runStatus.safeParse(run(counts)).success).toBe(true);
    expect(runStatus.safeParse(run('none')).success).toBe(false);
  });
});
