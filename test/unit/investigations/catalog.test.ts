/** Investigation headers → parameter specs and zod schemas (pure). */
import {
  exampleParams,
  loadInvestigations,
  parseInvestigation,
  toDriverParams,
  usedParameters,
} from '../../../src/investigations/catalog';
import { loadCypher } from '../../../src/platform/cypher';
import neo4j, { type Integer } from 'neo4j-driver';

const TEXT = `// @description Finds things.
// @param accountId string
// @param limit int = 100
// @param minShare float = 0.5
// @param since datetime
// @param strict boolean = false
// @param org string?
MATCH (a:Account {id: $accountId}) WHERE a.signupAt >= $since AND ($org IS NULL OR a.org = $org)
  AND $strict = $strict AND a.x > $minShare
RETURN a.id AS id LIMIT $limit
`;

describe('parseInvestigation', () => {
  const inv = parseInvestigation('find-things', TEXT);

  it('reads description and typed parameters with defaults', () => {
    expect(inv.description).toBe('Finds things.');
    expect(inv.params).toEqual([
      { name: 'accountId', type: 'string', required: true },
      { name: 'limit', type: 'int', required: false, default: 100 },
      { name: 'minShare', type: 'float', required: false, default: 0.5 },
      { name: 'since', type: 'datetime', required: true },
      { name: 'strict', type: 'boolean', required: false, default: false },
      { name: 'org', type: 'string', required: false },
    ]);
  });

  it('validates bodies: defaults, optionals as null, datetimes as epoch ms', () => {
    expect(inv.schema.parse({ accountId: 'a', since: '2026-02-01T00:00:00Z' })).toEqual({
      accountId: 'a',
      limit: 100,
      minShare: 0.5,
      since: Date.parse('2026-02-01T00:00:00Z'),
      strict: false,
      org: null,
    });
    for (const bad of [
      {},
      { accountId: 'a' },
      { accountId: 1, since: '2026-02-01T00:00:00Z' },
      { accountId: 'a', since: 'yesterday' },
      { accountId: 'a', since: '2026-02-01T00:00:00Z', limit: 1.5 },
      { accountId: 'a', since: '2026-02-01T00:00:00Z', limit: '10' },
      { accountId: 'a', since: '2026-02-01T00:00:00Z', extra: 1 },
    ]) {
      expect(inv.schema.safeParse(bad).success).toBe(false);
    }
  });

  it('passes ints and datetimes to the driver as Neo4j integers', () => {
    const params = toDriverParams(
      inv,
      inv.schema.parse({ accountId: 'a', since: '2026-02-01T00:00:00Z' }),
    );
    expect(params.limit).toMatchObject({ low: 100, high: 0 });
    // epoch ms need the high word: a JS number would reach Cypher as a float
    expect(neo4j.isInt(params.since)).toBe(true);
    expect((params.since as Integer).toNumber()).toBe(Date.parse('2026-02-01T00:00:00Z'));
    expect(params.minShare).toBe(0.5);
    expect(Object.keys(exampleParams(inv)).sort()).toEqual(inv.params.map((p) => p.name).sort());
  });

  it('refuses malformed headers', () => {
    expect(() => parseInvestigation('x', 'MATCH (n) RETURN n')).toThrow(/@description/);
    expect(() =>
      parseInvestigation('x', '// @description d\n// @param a strin\nRETURN $a'),
    ).toThrow(/unknown type/);
    expect(() => parseInvestigation('x', '// @description d\nRETURN $a')).toThrow(
      /\$a has no @param/,
    );
    expect(() =>
      parseInvestigation('x', '// @description d\n// @param a int = abc\nRETURN $a'),
    ).toThrow(/default/);
    expect(() =>
      parseInvestigation('x', '// @description d\n// @param a int\n// @param a int\nRETURN $a'),
    ).toThrow(/twice/);
  });

  it('reads ranges of numbers and holds values and defaults to them', () => {
    const ranged = parseInvestigation(
      'r',
      '// @description d\n// @param n int 1..10 = 5\n// @param share float 0..1 = 0.5\n// @param low int -3.. = 0\nRETURN $n, $share, $low',
    );
    expect(ranged.params).toEqual([
      { name: 'n', type: 'int', required: false, default: 5, min: 1, max: 10 },
      { name: 'share', type: 'float', required: false, default: 0.5, min: 0, max: 1 },
      { name: 'low', type: 'int', required: false, default: 0, min: -3 },
    ]);
    expect(ranged.schema.safeParse({ n: 10, share: 1, low: -3 }).success).toBe(true);
    for (const bad of [{ n: 0 }, { n: 11 }, { share: 1.5 }, { low: -4 }]) {
      expect([bad, ranged.schema.safeParse(bad).success]).toEqual([bad, false]);
    }
    expect(() =>
      parseInvestigation('x', '// @description d\n// @param a int 1..10 = 0\nRETURN $a'),
    ).toThrow(/in its range/);
    expect(() =>
      parseInvestigation('x', '// @description d\n// @param a string 1..10\nRETURN $a'),
    ).toThrow(/has a range but is a string/);
  });

  it('finds parameters outside comments and strings', () => {
    expect([...usedParameters('// $nope\nRETURN $a, \'$b\', "$c", $d')]).toEqual(['a', 'd']);
  });
});

describe('the shipped investigations', () => {
  it('all parse, and the seven required ones are there', () => {
    const catalog = loadInvestigations(loadCypher());
    expect([...catalog.keys()].sort()).toEqual(
      expect.arrayContaining([
        'accounts-sharing-payment-method',
        'cluster-strongest-identifiers',
        'ip-neighbourhood',
        'model-migration',
        'near-duplicate-prompts',
        'shortest-identifier-chain',
        'signup-bursts',
      ]),
    );
  });
});
