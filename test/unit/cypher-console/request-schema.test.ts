/** POST /v1/cypher's body: query text nested past QUERY_MAX_NESTING is refused before it runs. */
import {
  QUERY_MAX_ARITHMETIC,
  QUERY_MAX_NESTING,
  QUERY_MAX_XOR,
} from '../../../src/cypher-console/guard';
import { cypherRequestSchema } from '../../../src/cypher-console/service';

const ok = (query: string) => cypherRequestSchema.safeParse({ query }).success;

describe('cypherRequestSchema', () => {
  it('refuses text nested deeper than Neo4j can parse (found by review: a 500)', () => {
    expect(ok(`RETURN ${'['.repeat(400)}${']'.repeat(400)} AS x`)).toBe(false);
    expect(ok(`RETURN ${'NOT '.repeat(400)}true AS x`)).toBe(false);
    const n = QUERY_MAX_NESTING;
    expect(ok(`RETURN ${'('.repeat(n + 1)}1${')'.repeat(n + 1)} AS x`)).toBe(false);
    expect(ok(`RETURN ${'('.repeat(n)}1${')'.repeat(n)} AS x`)).toBe(true);
    // in a string it is text, not nesting
    expect(ok(`RETURN '${'['.repeat(400)}' AS x`)).toBe(true);
  });

  it('refuses more than 8 XORs and more than 200 arithmetic operators, counted outside strings and comments (review, 12-06)', () => {
    // 24 XORs ran the embedded Neo4j out of heap; 350 `+` in a row overflowed its stack
    const xor = (n: number) => `WITH true AS x RETURN x${' XOR x'.repeat(n)} AS y`;
    expect(ok(xor(QUERY_MAX_XOR))).toBe(true);
    expect(ok(xor(QUERY_MAX_XOR + 1))).toBe(false);
    expect(ok(`WITH true AS x RETURN x${' xor x'.repeat(24)} AS y`)).toBe(false);
    const sum = (op: string, n: number) => `WITH 1 AS x RETURN x${`${op}x`.repeat(n)} AS y`;
    for (const op of ['+', '-', '*', '/', '%', '^', '||']) {
      expect({ op, ok: ok(sum(op, QUERY_MAX_ARITHMETIC)) }).toEqual({ op, ok: true });
      expect({ op, ok: ok(sum(op, QUERY_MAX_ARITHMETIC + 1)) }).toEqual({ op, ok: false });
    }
    // text, names and comments are not operators
    expect(
      ok(`RETURN '${' XOR +'.repeat(300)}' AS x, \`a+b\` AS \`xor\` // ${'+'.repeat(300)}`),
    ).toBe(true);
    expect(ok('MATCH (xorder:A)-[*1..3]-(b) WITH xorder, count(*) AS n RETURN n * 2 AS m')).toBe(
      true,
    );
  });

  it('counts lookups and indexes in a row towards the 200 (review, 12-07: 300 `.a` overflowed Neo4j)', () => {
    const lookups = (n: number, step = '.a') =>
      `WITH {a: null} AS m RETURN m${step.repeat(n)} AS y`;
    expect(ok(lookups(QUERY_MAX_ARITHMETIC))).toBe(true);
    expect(ok(lookups(QUERY_MAX_ARITHMETIC + 1))).toBe(false);
    // a name in backticks, an index, a lookup into an index's result
    for (const step of ['.`a`', '[0]', '[0].a', '.a[m.a]'])
      expect({ step, ok: ok(lookups(QUERY_MAX_ARITHMETIC + 1, step)) }).toEqual({
        step,
        ok: false,
      });
    // one tree: 150 lookups then 51 `+` are 201 levels; 100 and 100 are 200
    const both = (a: number, b: number) =>
      `WITH {a: null} AS m, 1 AS x RETURN m${'.a'.repeat(a)}${'+x'.repeat(b)} AS y`;
    expect(ok(both(150, 51))).toBe(false);
    expect(ok(both(100, 100))).toBe(true);
    // Through brackets and CASE, as Neo4j's tree has no brackets (review of the change:
    // each of these counted as its longest piece, 150).
    const m = 'WITH {a: null} AS m RETURN';
    const a = (n: number) => '.a'.repeat(n);
    for (const query of [
      `${m} (m${a(150)})${a(51)}`,
      `${m} head([m${a(150)}])${a(51)}`,
      `${m} coalesce(m${a(150)}, 1)${a(51)}`,
      `${m} CASE WHEN true THEN m${a(150)} END${a(51)}`,
      `${m} ${'('.repeat(10)}m${a(20)}${`)${a(20)}`.repeat(10)}`,
      `${m} m${'.𝑎'.repeat(201)}`, // a letter beyond the BMP is one name
    ])
      expect({ query: query.slice(0, 60), ok: ok(query) }).toEqual({
        query: query.slice(0, 60),
        ok: false,
      });
    expect(ok(`${m} (m${a(100)})${a(100)}`)).toBe(true);
    // many lookups side by side are no chain, nor are numbers, text and comments
    const columns = Array.from({ length: 400 }, (_, i) => `a.p${i}`).join(', ');
    expect(ok(`MATCH (a:Account) RETURN ${columns}`)).toBe(true);
    const ands = Array.from({ length: 100 }, (_, i) => `a.b.c${i} = 1`).join(' AND ');
    for (const query of [
      `MATCH (a) WHERE ${ands} RETURN a`,
      'MATCH (a) RETURN [x IN a.list WHERE x.y > 1 | x.z.w] AS l, a {.id, x: a.b.c} AS p',
      'MATCH (a) RETURN CASE a.x WHEN 1 THEN a.y ELSE a.z END AS v, toUpper(trim(a.b.c)).d',
    ])
      expect({ query: query.slice(0, 40), ok: ok(query) }).toEqual({
        query: query.slice(0, 40),
        ok: true,
      });
    expect(ok(`RETURN 1.5 AS x, '${'.a'.repeat(300)}' AS y // ${'[0]'.repeat(300)}`)).toBe(true);
  });

  it('does not scan the nesting of text already too long (review, 12-05: 1 MiB scanned per request)', () => {
    const result = cypherRequestSchema.safeParse({ query: '('.repeat(1_000_000) });
    expect(result.success).toBe(false);
    // only the length: the nesting check never ran (it would add its own issue)
    expect(result.error?.issues.map((i) => i.code)).toEqual(['too_big']);
  });
});
