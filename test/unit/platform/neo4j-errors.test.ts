/**
 * How the driver's errors become the API's: unreachable → 503 database_unavailable,
 * past the time limit → 504 query_timeout, transient (deadlock, lock timeout) after
 * the driver's retries → 503 database_busy, one transaction past its memory limit → 422
 * query_memory_limit; anything else is left as it is (a 500).
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

  it('one transaction past db.memory.transaction.max → 422 query_memory_limit; all of them past the total → 503', () => {
    // Neo4j 5.26's messages: the same code for both, the setting named at the end.
    const one = new Neo4jError(
      'The allocation of an extra 2.0 MiB would use more than the limit 100.0 MiB. Currently using 99.5 MiB. db.memory.transaction.max threshold reached',
      'Neo.TransientError.General.MemoryPoolOutOfMemoryError',
      '',
      '',
    );
    const all = new Neo4jError(
      'The allocation of an extra 2.0 MiB would use more than the limit 318.9 MiB. Currently using 317.0 MiB. dbms.memory.transaction.total.max threshold reached',
      'Neo.TransientError.General.MemoryPoolOutOfMemoryError',
      '',
      '',
    );
    const mapped = toAppError(one) as AppError;
    expect([mapped.code, mapped.status]).toEqual(['query_memory_limit', 422]);
    expect(mapped.message).toMatch(/more memory than one transaction may use/);
    const busy = toAppError(all) as AppError;
    expect([busy.code, busy.status]).toEqual(['database_busy', 503]);
  });

  it('leaves other errors alone', () => {
    const syntax = neo4jError('Neo.ClientError.Statement.SyntaxError');
    expect(toAppError(syntax)).toBe(syntax);
    const plain = new Error('boom');
    expect(toAppError(plain)).toBe(plain);
  });
});
