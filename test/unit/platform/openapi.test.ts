/**
 * The query parameters the OpenAPI document lists are the ones the routes accept:
 * the document describes them with its own zod objects (the routes' schemas transform
 * their input, which the generator cannot render), so the two could drift, and the
 * routes refuse any parameter they do not know.
 */
import type { z } from 'zod';
import { clusterDetailQuery, listClustersQuery } from '../../../src/clusters/schemas';
import { entryKeyInput, listQuery } from '../../../src/linkage/schemas';
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

type Operation = { parameters?: { in: string; name: string }[] };

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
