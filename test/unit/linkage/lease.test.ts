/**
 * The lease's renewals without Neo4j: a fake Database that answers the lease's
 * statements and holds each renewal until the test lets it commit.
 */
import { loadCypher } from '../../../src/platform/cypher';
import type { Logger } from '../../../src/platform/logger';
import type { Database } from '../../../src/platform/neo4j';
import { Lease } from '../../../src/linkage/lease';

const cypher = loadCypher();
const keyOf = new Map([...cypher].map(([key, text]) => [text, key]));
const logger = { warn: () => undefined, info: () => undefined } as unknown as Logger;

function fakeNeo4j() {
  const renewals: { commit: () => void }[] = [];
  const record = (o: Record<string, unknown>) => ({ get: (k: string) => o[k], toObject: () => o });
  const run = async (text: string) => {
    const key = keyOf.get(text);
    if (key === 'linkage/acquire-lease') return { records: [record({ acquired: true })] };
    if (key === 'linkage/renew-lease') {
      await new Promise<void>((commit) => renewals.push({ commit }));
      return { records: [record({ expiresAt: Date.now() + 60_000 })] };
    }
    return { records: [] };
  };
  const db = {
    write: <T>(work: (tx: unknown) => Promise<T>) => work({ run }),
  } as unknown as Database;
  return { db, renewals };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('Lease renewals', () => {
  it('one at a time, and none once stopped: a phase boundary cannot extend a failed run', async () => {
    // Review, 12-05: a phase boundary's renewal was not the timer's slot, so stopRenewing
    // neither waited for it nor kept a queued one from extending the lease after.
    const neo4j = fakeNeo4j();
    const lease = await Lease.acquire(
      { db: neo4j.db, cypher, logger },
      'r-1',
      { ttlMs: 600_000 },
      async () => undefined,
    );
    const first = lease.renewOrWarn(); // a phase boundary
    const second = lease.renewOrWarn(); // the next one, while the first is on its way
    await flush();
    expect(neo4j.renewals).toHaveLength(1); // the second waits on the first, sends none
    const stopped = lease.stopRenewing(); // the run failed meanwhile
    let stopDone = false;
    void stopped.then(() => (stopDone = true));
    await flush();
    expect(stopDone).toBe(false); // it waits for the renewal on its way
    neo4j.renewals[0]?.commit();
    await Promise.all([first, second, stopped]);
    await lease.renewOrWarn(); // a boundary queued behind the failure
    await flush();
    expect(neo4j.renewals).toHaveLength(1);
  });
});
