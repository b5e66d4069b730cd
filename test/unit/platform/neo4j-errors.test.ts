/**
 * How the driver's errors become the API's: unreachable, or refusing the service's
 * credentials or its writes → 503 database_unavailable,
 * past the time limit → 504 query_timeout, transient (deadlock, lock timeout) after
 * the driver's retries → 503 database_busy, one transaction past its memory limit → 422
 * query_memory_limit; anything else is left as it is (a 500). The driver's own errors
 * (pool, socket) are read by their text, the server's statuses only by their code.
 */
import { type Driver, Neo4jError } from 'neo4j-driver';
import { AppError } from '../../../src/platform/errors';
import { Database, toAppError } from '../../../src/platform/neo4j';
import { mapQueryError } from '../../../src/cypher-console/service';

const neo4jError = (code: string) => new Neo4jError('message from Neo4j', code, '', '');

describe('toAppError', () => {
  it.each([
    ['ServiceUnavailable', 'database_unavailable', 503],
    ['SessionExpired', 'database_unavailable', 503],
    ['Neo.TransientError.General.DatabaseUnavailable', 'database_unavailable', 503],
    // Neo4j up but refusing the service (review, 12-05: these were 500s)
    ['Neo.ClientError.Security.Unauthorized', 'database_unavailable', 503],
    ['Neo.ClientError.Security.CredentialsExpired', 'database_unavailable', 503],
    ['Neo.ClientError.General.ForbiddenOnReadOnlyDatabase', 'database_unavailable', 503],
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
    // Neo4j's own text stays out of the body (the error handler logs it).
    expect(mapped.details).toEqual({
      neo4jCode: 'Neo.TransientError.General.MemoryPoolOutOfMemoryError',
    });
    const busy = toAppError(all) as AppError;
    expect([busy.code, busy.status]).toEqual(['database_busy', 503]);
  });

  it('leaves other errors alone', () => {
    const syntax = neo4jError('Neo.ClientError.Statement.SyntaxError');
    expect(toAppError(syntax)).toBe(syntax);
    const plain = new Error('boom');
    expect(toAppError(plain)).toBe(plain);
  });

  it('a syntax error quoting a query about CONNECTED_FROM is not "unreachable": the console answers 400', () => {
    // Neo4j quotes the failing line; the message matches "connect" but the code is a
    // server status, so only the code decides.
    const syntax = new Neo4jError(
      `Invalid input 'LIMT': expected an expression, 'FOREACH', 'ORDER BY', 'CALL', 'LIMIT' or <EOF> (line 1, column 52 (offset: 51))\n` +
        `"MATCH (a:Account)-[:CONNECTED_FROM]->(ip:IP) RETURN a LIMT 5"\n` +
        `                                                    ^`,
      'Neo.ClientError.Statement.SyntaxError',
      '',
      '',
    );
    expect(toAppError(syntax)).toBe(syntax);
    const mapped = mapQueryError(toAppError(syntax), true) as AppError;
    expect(mapped).toBeInstanceOf(AppError);
    expect([mapped.code, mapped.status]).toEqual(['bad_request', 400]);
    expect(mapped.details).toEqual({ neo4jCode: 'Neo.ClientError.Statement.SyntaxError' });
  });

  it.each([
    'Connection acquisition timed out in 60000 ms. Pool status: Active conn count = 100, Idle conn count = 0.',
    'Pool is closed, it is no more able to serve requests.',
  ])("the driver's own pool error (code N/A) → database_unavailable: %s", (message) => {
    // As neo4j-driver-core's pool raises them: newError(message), code N/A.
    const err = toAppError(new Neo4jError(message, 'N/A', '', '')) as AppError;
    expect(err).toBeInstanceOf(AppError);
    expect([err.code, err.status]).toEqual(['database_unavailable', 503]);
  });

  it('a socket error that is not a Neo4jError → database_unavailable', () => {
    const socket = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:7687'), {
      code: 'ECONNREFUSED',
    });
    const err = toAppError(socket) as AppError;
    expect([err.code, err.status]).toEqual(['database_unavailable', 503]);
  });

  it('an error of ours thrown in a transaction is left alone, whatever file it names', () => {
    // Review, 12-04: an import of /data/kafka-connect/… that found its checkpoint moved
    // on was reported as "Neo4j is unreachable".
    const ours = new Error('another import ran while /data/kafka-connect/e.jsonl was hashed');
    expect(toAppError(ours)).toBe(ours);
    // nor a file error with a system code: only a socket's codes say Neo4j is away
    // (review, 12-05: an ENOENT naming kafka-connect.jsonl read as unreachable)
    const missing = Object.assign(
      new Error("ENOENT: no such file or directory, open '/data/kafka-connect.jsonl'"),
      { code: 'ENOENT' },
    );
    expect(toAppError(missing)).toBe(missing);
    for (const code of ['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND']) {
      const lost = Object.assign(new Error(`read ${code}`), { code });
      expect([code, (toAppError(lost) as AppError).code]).toEqual([code, 'database_unavailable']);
    }
  });
});

describe('Database.writeBriefly', () => {
  /** A driver whose transactions fail with `failures` in turn, then answer 'done'. */
  const failingDriver = (failures: Error[]) => {
    let attempts = 0;
    const driver = {
      session: () => ({
        beginTransaction: async () => ({
          run: async () => {
            const err = failures[attempts++];
            if (err) throw err;
            return { records: [] };
          },
          commit: async () => undefined,
          rollback: async () => undefined,
          isOpen: () => false,
        }),
        close: async () => undefined,
      }),
    };
    return { db: new Database(driver as unknown as Driver), attempts: () => attempts };
  };
  const write = (db: Database, budgetMs: number) =>
    db.writeBriefly(
      async (tx) => {
        await tx.run('RETURN 1');
        return 'done';
      },
      { timeoutMs: 1000, budgetMs },
    );

  it('retries what the driver would (a leader switch, a transient error) within its budget', async () => {
    const { db, attempts } = failingDriver([
      neo4jError('SessionExpired'),
      neo4jError('Neo.TransientError.Transaction.DeadlockDetected'),
    ]);
    await expect(write(db, 2000)).resolves.toBe('done');
    expect(attempts()).toBe(3);
  });

  it('gives up once its budget is spent, with the error as the API gives it', async () => {
    const { db, attempts } = failingDriver(
      Array.from({ length: 100 }, () => neo4jError('ServiceUnavailable')),
    );
    const started = Date.now();
    await expect(write(db, 500)).rejects.toMatchObject({ code: 'database_unavailable' });
    expect(Date.now() - started).toBeLessThan(1500);
    expect(attempts()).toBeGreaterThan(1); // 100, 200 ms of backoff fit in 500 ms
    expect(attempts()).toBeLessThan(5);
  });

  it('does not retry an error the driver would not', async () => {
    const { db, attempts } = failingDriver([neo4jError('Neo.ClientError.Statement.SyntaxError')]);
    await expect(write(db, 2000)).rejects.toMatchObject({
      code: 'Neo.ClientError.Statement.SyntaxError',
    });
    expect(attempts()).toBe(1);
  });
});
