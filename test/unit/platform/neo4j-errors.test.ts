/**
 * How the driver's errors become the API's: unreachable → 503 database_unavailable,
 * past the time limit → 504 query_timeout, transient (deadlock, lock timeout) after
 * the driver's retries → 503 database_busy; anything else is left as it is (a 500).
 */
import { Neo4jError } from 'neo4j-driver';
import { AppError } from '../../../src/platform/errors';
import { toAppError } from '../../../src/platform/neo4j';

const neo4jError = (code: string) => new Neo4jError('message from Neo4j', code, '', '');

describe('toAppError', () => {
  it.each([
    ['ServiceUnavailable', 'database_unavailable', 503],
    ['SessionExpired', 'database_unavailable', 503],
    ['Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration', 'query_timeout', 504],
    ['Neo.TransientError.Transaction.DeadlockDetected', 'database_busy', 503],
    ['Neo.TransientError.Transaction.LockAcquisitionTimeout', 'database_busy', 503],
    ['Neo.TransientError.General.MemoryPoolOutOfMemoryError', 'database_busy', 503],
  ])('%s → %s', (code, appCode, status) => {
    const err = toAppError(neo4jError(code));
    expect(err).toBeInstanceOf(AppError);
    expect([(err as AppError).code, (err as AppError).status]).toEqual([appCode, status]);
  });

  it('leaves other errors alone', () => {
    const syntax = neo4jError('Neo.ClientError.Statement.SyntaxError');
    expect(toAppError(syntax)).toBe(syntax);
    const plain = new Error('boom');
    expect(toAppError(plain)).toBe(plain);
  });
});
