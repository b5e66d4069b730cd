/** The import lock's release does not wait out the driver's 30 s of retries. */
import { takeImportLock } from '../../../src/ingest/import-lock';
import { loadCypher } from '../../../src/platform/cypher';
import type { Database } from '../../../src/platform/neo4j';

const cypher = loadCypher();

describe('takeImportLock', () => {
  it('releases in one brief write (the lock expires on its own)', async () => {
    const calls: string[] = [];
    const row = { taken: true, holder: 'h', host: 'x', pid: 1, since: 0, expiresAt: 1 };
    const tx = {
      run: async () => ({ records: [{ get: (k: keyof typeof row) => row[k] }] }),
    };
    const db = {
      write: async (work: (t: typeof tx) => Promise<unknown>) => {
        calls.push('write');
        return work(tx);
      },
      writeBriefly: async (
        work: (t: typeof tx) => Promise<unknown>,
        opts: { timeoutMs: number; budgetMs: number },
      ) => {
        calls.push(`writeBriefly ${opts.budgetMs}`);
        await work(tx);
        throw new Error('Neo4j away');
      },
    };
    const lock = await takeImportLock(db as unknown as Database, cypher, '/tmp/f.jsonl');
    await expect(lock.release()).rejects.toThrow('Neo4j away');
    expect(calls).toEqual(['write', 'writeBriefly 2000']);
  });
});
