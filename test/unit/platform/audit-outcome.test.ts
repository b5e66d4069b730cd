/** How a write that failed is audited: failed, or its outcome unknown (audit.ts). */
import { Neo4jError } from 'neo4j-driver';
import { failedWriteOutcome } from '../../../src/platform/audit';
import { AppError } from '../../../src/platform/errors';
import { toAppError } from '../../../src/platform/neo4j';

const neo4jError = (code: string) => toAppError(new Neo4jError('x', code, '', '')) as AppError;

describe('failedWriteOutcome (review, 12-06)', () => {
  it('says unknown when the commit may have gone through, its answer lost', () => {
    for (const err of [
      neo4jError('ServiceUnavailable'), // Neo4j gone past the driver's retries
      neo4jError('SessionExpired'),
      new AppError('database_busy', 'locks'),
      new Error('a fault of ours'),
    ])
      expect(failedWriteOutcome(err)).toEqual({
        outcome: 'outcome_unknown',
        error: (err as AppError).code ?? 'internal',
      });
  });

  it('says the code when nothing can have committed', () => {
    // refused before any write
    for (const code of ['forbidden', 'not_found', 'conflict'] as const)
      expect(failedWriteOutcome(new AppError(code, 'no'))).toEqual({ outcome: code });
    // Neo4j refusing the service: database_unavailable, but refused, not lost
    for (const code of [
      'Neo.ClientError.General.ForbiddenOnReadOnlyDatabase',
      'Neo.ClientError.Security.Unauthorized',
    ]) {
      expect(neo4jError(code).code).toBe('database_unavailable');
      expect(failedWriteOutcome(neo4jError(code))).toEqual({ outcome: 'database_unavailable' });
    }
  });
});
