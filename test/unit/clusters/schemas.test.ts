/**
 * Query strings as the analyst routes read them: numbers only as plain decimal digits
 * (with a fraction where one makes sense), never what Number() also reads ('' and ' '
 * as 0, 0x10, 1e2, Infinity); routes that take no parameters refuse any.
 */
import { clusterDetailQuery, listClustersQuery } from '../../../src/clusters/schemas';
import { noQuery } from '../../../src/platform/http';
import { listQuery } from '../../../src/linkage/schemas';
import { listAuditQuery, listVerdictsQuery } from '../../../src/verdicts/schemas';

const refused = (schema: { safeParse(v: unknown): { success: boolean } }, query: unknown) =>
  !schema.safeParse(query).success;

describe('number query parameters', () => {
  it('read plain decimal digits, with defaults when absent', () => {
    expect(listClustersQuery.parse({})).toEqual({ minRisk: 0, minSize: 0, limit: 50 });
    expect(
      listClustersQuery.parse({ minRisk: '0.7', minSize: '3', limit: '500', flagged: 'true' }),
    ).toEqual({ minRisk: 0.7, minSize: 3, limit: 500, flagged: true });
    expect(listClustersQuery.parse({ minRisk: '.5' }).minRisk).toBe(0.5);
    expect(listClustersQuery.parse({ minRisk: '1.' }).minRisk).toBe(1);
    expect(listClustersQuery.parse({ minRisk: '1' }).minRisk).toBe(1);
    expect(clusterDetailQuery.parse({ memberLimit: '007' })).toEqual({ memberLimit: 7 });
  });

  it.each([
    ['minRisk', ''],
    ['minRisk', ' '],
    ['minRisk', '0x1'],
    ['minRisk', '1e-1'],
    ['minRisk', '-0'],
    ['minRisk', 'NaN'],
    ['minRisk', 'Infinity'],
    ['minRisk', '1.5'],
    ['minSize', ''],
    ['minSize', '\t'],
    ['minSize', ' '],
    ['minSize', '1.0'],
    ['minSize', '+1'],
    ['minSize', '99999999999999999999'],
    ['limit', '0x10'],
    ['limit', '1e2'],
    ['limit', ' 10'],
    ['limit', '0'],
    ['limit', '501'],
  ])('GET /v1/clusters refuses %s=%j', (name, value) => {
    expect(refused(listClustersQuery, { [name]: value })).toBe(true);
  });

  it('says what it wants', () => {
    const result = listClustersQuery.safeParse({ limit: '0x10', minRisk: '' });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['minRisk', 'a decimal number such as 0.7'],
      ['limit', 'a whole number in decimal digits'],
    ]);
  });

  it('refuses a repeated parameter (an array) and every other form on every list', () => {
    expect(refused(listClustersQuery, { limit: ['1', '2'] })).toBe(true);
    for (const [schema, name] of [
      [clusterDetailQuery, 'memberLimit'],
      [listVerdictsQuery, 'limit'],
      [listAuditQuery, 'limit'],
      [listQuery, 'limit'],
    ] as const) {
      expect(schema.parse({ [name]: '5' })).toMatchObject({ [name]: 5 });
      for (const value of ['', ' ', '0x10', '1e2', '5.0'])
        expect([name, value, refused(schema, { [name]: value })]).toEqual([name, value, true]);
    }
  });
});

describe('routes without query parameters', () => {
  it('refuse any', () => {
    expect(noQuery.parse({})).toEqual({});
    expect(refused(noQuery, { runId: 'r-old' })).toBe(true);
  });
});
