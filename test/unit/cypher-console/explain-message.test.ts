/**
 * The plan check runs `EXPLAIN <query>`; Neo4j's syntax errors (messages copied from
 * Neo4j 5.26) then quote and count our prefix. The analyst must see their own query.
 */
import { withoutExplain } from '../../../src/cypher-console/execute';

describe('withoutExplain', () => {
  it('takes the prefix out of the quote, the column, the offset and the caret (line 1)', () => {
    const neo4j =
      "Invalid input 'RETURN': expected a graph pattern, a parameter, ')', ':', 'IS', 'WHERE' or '{' (line 1, column 18 (offset: 17))\n\"EXPLAIN MATCH (n RETURN n\"\n                  ^";
    expect(withoutExplain(neo4j)).toBe(
      "Invalid input 'RETURN': expected a graph pattern, a parameter, ')', ':', 'IS', 'WHERE' or '{' (line 1, column 10 (offset: 9))\n\"MATCH (n RETURN n\"\n          ^",
    );
    // The caret points at the offending token of the analyst's own query.
    const out = withoutExplain(neo4j).split('\n');
    expect(out[1]?.slice(1)[out[2]!.indexOf('^') - 1]).toBe('R');
  });

  it('on a later line only the offset moves (the line holds no prefix)', () => {
    const neo4j =
      'Invalid input \'\': expected an expression (line 2, column 11 (offset: 28))\n"RETURN n +"\n           ^';
    expect(withoutExplain(neo4j)).toBe(
      'Invalid input \'\': expected an expression (line 2, column 11 (offset: 20))\n"RETURN n +"\n           ^',
    );
  });

  it('two statements: the caret goes back to the start of the query', () => {
    const neo4j =
      'Expected exactly one statement per query but got: 2 (line 0, column 0 (offset: 8))\n"EXPLAIN RETURN 1; RETURN 2"\n         ^';
    expect(withoutExplain(neo4j)).toBe(
      'Expected exactly one statement per query but got: 2 (line 0, column 0 (offset: 0))\n"RETURN 1; RETURN 2"\n ^',
    );
  });

  it('leaves other messages alone', () => {
    expect(withoutExplain('Unknown function `nope`')).toBe('Unknown function `nope`');
  });
});
