import { Neo4jError } from 'neo4j-driver';
import { mapQueryError } from '../../../src/cypher-console/service';
import { AppError } from '../../../src/platform/errors';

const neo4jError = (code: string) =>
  new Neo4jError('substring: negative length', code, '50N42', 'general processing exception');

describe('mapQueryError', () => {
  it("an execution failure is the analyst's in the console, the service's in an investigation", () => {
    // Review: mapping it to 400 everywhere made a saved investigation's failure (the
    // service's query, or Neo4j itself) a bad request with Neo4j's internal message.
    const failed = neo4jError('Neo.DatabaseError.Statement.ExecutionFailed');
    const own = mapQueryError(failed, true);
    expect(own).toBeInstanceOf(AppError);
    expect(own).toMatchObject({ code: 'bad_request', status: 400 });
    expect(mapQueryError(failed)).toBe(failed); // a 500 downstream
    expect(
      mapQueryError(neo4jError('Neo.DatabaseError.General.UnknownError'), true),
    ).toBeInstanceOf(Neo4jError);
  });

  it("a transaction ended under the query is 503, not the analyst's 400 (review, 12-05)", () => {
    // TERMINATE TRANSACTION or Neo4j stopping: the driver files both as client errors.
    for (const analystsText of [true, false])
      for (const code of [
        'Neo.ClientError.Transaction.Terminated',
        'Neo.ClientError.Transaction.LockClientStopped',
      ])
        expect([code, mapQueryError(neo4jError(code), analystsText)]).toEqual([
          code,
          expect.objectContaining({ code: 'database_busy', status: 503 }),
        ]);
  });

  it('client errors are bad requests and refused writes write_not_allowed, either way', () => {
    for (const analystsText of [true, false]) {
      expect(
        mapQueryError(neo4jError('Neo.ClientError.Statement.SyntaxError'), analystsText),
      ).toMatchObject({ code: 'bad_request' });
      expect(
        mapQueryError(neo4jError('Neo.ClientError.Statement.AccessMode'), analystsText),
      ).toMatchObject({ code: 'write_not_allowed', status: 403 });
    }
  });

  it("Neo4j's message reaches the console's analyst only, not an investigation's", () => {
    // Review, 12-04: an investigation passed Neo4j's text, which can quote data, through.
    const syntax = neo4jError('Neo.ClientError.Statement.ArgumentError');
    expect(mapQueryError(syntax, true)).toMatchObject({ message: 'substring: negative length' });
    const saved = mapQueryError(syntax) as AppError;
    expect(saved).toMatchObject({ code: 'bad_request', details: { neo4jCode: syntax.code } });
    expect(saved.message).not.toContain('substring');
    expect(saved.cause).toBe(syntax); // logged with the request
  });

  it('a stack overflow converting a deeply nested result → 422 result_too_deep, either way', () => {
    let overflow: unknown;
    const dive = (n: number): number => (n === 0 ? 0 : 1 + dive(n - 1));
    try {
      dive(1e7);
    } catch (err) {
      overflow = err;
    }
    expect(overflow).toBeInstanceOf(RangeError);
    for (const analystsText of [true, false]) {
      expect(mapQueryError(overflow, analystsText)).toMatchObject({
        code: 'result_too_deep',
        status: 422,
      });
    }
    const other = new RangeError('Invalid array length');
    expect(mapQueryError(other, true)).toBe(other);
  });
});
