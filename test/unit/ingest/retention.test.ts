/**
 * The retention job's scheduling: one prune at a time (events' keys, batches' keys, then
 * write markers), and
 * stop() waiting for the one running. The database here is a stand-in whose transactions finish when the test
 * says; what a prune deletes is covered against the real Neo4j in
 * test/integration/ingest.test.ts.
 */
import type { Context } from '../../../src/context';
import { startEventIdRetention } from '../../../src/ingest/retention';
import { loadCypher } from '../../../src/platform/cypher';
import { Metrics } from '../../../src/platform/metrics';

/** Each write transaction waits until the test settles it. */
class HeldDatabase {
  readonly pending: { resolve: (deleted: number) => void; reject: (err: unknown) => void }[] = [];
  write(): Promise<number> {
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
  }
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

const started: { db: HeldDatabase; job: { stop(): Promise<void> } }[] = [];
afterEach(async () => {
  // Whatever a test left waiting ends, so no schedule outlives it.
  for (const { db, job } of started.splice(0)) {
    const stopping = job.stop();
    for (const p of db.pending) p.resolve(0);
    await stopping;
  }
});

function start() {
  const db = new HeldDatabase();
  const warn = jest.fn();
  const info = jest.fn();
  const metrics = new Metrics();
  const job = startEventIdRetention({
    config: { INGEST_EVENT_ID_RETENTION_DAYS: 30 },
    logger: { info, warn },
    db,
    cypher: loadCypher(),
    metrics,
  } as unknown as Context);
  started.push({ db, job });
  return { db, warn, info, metrics, job };
}

describe('startEventIdRetention', () => {
  it('joins a prune asked for while start-up’s runs, and stop() waits for that one', async () => {
    const { db, job, metrics } = start();
    await settle();
    expect(db.pending).toHaveLength(1); // start-up's prune, in its first transaction
    const asked = job.prune();
    await settle();
    expect(db.pending).toHaveLength(1); // no second prune beside it

    let stopped = false;
    const stopping = job.stop().then(() => (stopped = true));
    await settle();
    expect(stopped).toBe(false);
    db.pending[0]?.resolve(3); // a short batch: keys done; stopped, so no markers' batch
    await stopping;
    expect(await asked).toBe(3);
    expect((await metrics.eventIdsPruned.get()).values[0]?.value).toBe(3);
    expect(db.pending).toHaveLength(1);
  });

  it('starts a new prune once the one running has ended, failed or not', async () => {
    const { db, job, warn, info } = start();
    await settle();
    db.pending[0]?.reject(new Error('gone'));
    await settle();
    expect(warn).toHaveBeenCalledTimes(1); // start-up's prune failed, logged

    const next = job.prune();
    await settle();
    expect(db.pending).toHaveLength(2);
    db.pending[1]?.resolve(0); // events' keys
    await settle();
    expect(db.pending).toHaveLength(3);
    db.pending[2]?.resolve(0); // then batches' keys (Idempotency-Key), kept as long
    await settle();
    expect(db.pending).toHaveLength(4);
    db.pending[3]?.resolve(0); // then the write markers (an hour's, see MARKER_KEEP_MS)
    expect(await next).toBe(0);

    const third = job.prune();
    await settle();
    expect(db.pending).toHaveLength(5);
    db.pending[4]?.resolve(2);
    await settle();
    db.pending[5]?.resolve(1);
    await settle();
    db.pending[6]?.resolve(5);
    expect(await third).toBe(2);
    expect(info).toHaveBeenCalledWith(expect.objectContaining({ deleted: 2 }), 'event ids pruned');
    expect(info).toHaveBeenCalledWith(expect.objectContaining({ keys: 1 }), 'batch keys pruned');
    expect(info).toHaveBeenCalledWith(
      expect.objectContaining({ batches: 5 }),
      'write markers pruned',
    );
    await job.stop();
  });
});
