/** POST /v1/cypher's body: query text nested past QUERY_MAX_NESTING is refused before it runs. */
import { QUERY_MAX_NESTING } from '../../../src/cypher-console/guard';
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

  it('does not scan the nesting of text already too long (review, 12-05: 1 MiB scanned per request)', () => {
    const result = cypherRequestSchema.safeParse({ query: '('.repeat(1_000_000) });
    expect(result.success).toBe(false);
    // only the length: the nesting check never ran (it would add its own issue)
    expect(result.error?.issues.map((i) => i.code)).toEqual(['too_big']);
  });
});
