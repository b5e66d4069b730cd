import { loadCypher } from '../../../src/platform/cypher';
import type { Config } from '../../../src/platform/config';
import type { Logger } from '../../../src/platform/logger';
import type { Database } from '../../../src/platform/neo4j';
import { watchDeadRuns } from '../../../src/linkage/dead-runs';

const logger = { warn: () => undefined, info: () => undefined } as unknown as Logger;

describe('watchDeadRuns', () => {
  it('stop() resolves once the check on its way has ended, not before', async () => {
    // Review, 12-05: stop() only cleared the timer, and the service closed the driver
    // under a check still reading.
    let answer!: () => void;
    const reading = new Promise<void>((r) => (answer = r));
    const db = {
      read: async () => {
        await reading;
        return 0; // no dead run
      },
    } as unknown as Database;
    const config = { LINKAGE_LEASE_TTL_MS: 600_000 } as Config;
    const watch = watchDeadRuns({ db, cypher: loadCypher(), logger, config } as never);
    let stopped = false;
    const stopping = watch.stop().then(() => (stopped = true));
    await new Promise((r) => setImmediate(r));
    expect(stopped).toBe(false);
    answer();
    await stopping;
    expect(stopped).toBe(true);
  });
});
