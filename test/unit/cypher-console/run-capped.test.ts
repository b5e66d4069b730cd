/**
 * runCapped over neo4j-driver's own Result and Bolt stream observer (which pull records
 * `fetchSize` at a time, pause and cancel), with a fake server behind them: how many
 * records the service receives past a cap, not only how many it returns.
 * (neo4j-driver-bolt-connection is neo4j-driver's own dependency, at its version.)
 */
import { Result } from 'neo4j-driver';
import * as boltConnection from 'neo4j-driver-bolt-connection';
import type { Context } from '../../../src/context';
import { AnalystQueries } from '../../../src/cypher-console/run';
import type { QueryRunner } from '../../../src/platform/neo4j';

/** The driver's Bolt-level observer of one query's stream (not in its type declarations). */
interface StreamObserver {
  onNext(fields: unknown[]): void;
  onCompleted(meta: Record<string, unknown>): void;
}
type Pull = (queryId: unknown, n: number, observer: StreamObserver) => void;
const { ResultStreamObserver } = (
  boltConnection as unknown as {
    bolt: {
      ResultStreamObserver: new (opts: {
        fetchSize: number;
        highRecordWatermark: number;
        lowRecordWatermark: number;
        moreFunction: Pull;
        discardFunction: (queryId: unknown, observer: StreamObserver) => void;
      }) => StreamObserver;
    };
  }
).bolt;

/** Each answer arrives in a network read of its own, after what the service does now. */
const later = (fn: () => void) => setImmediate(fn);

/**
 * A server with `total` records of one column `x`: it answers a PULL of n with up to n
 * records and "has more" in one read, as Neo4j does. `sent` counts the records sent;
 * `discarded`: the driver asked it to drop the rest (DISCARD).
 */
function fakeServer(total: number, value: (i: number) => unknown) {
  const server = { sent: 0, discarded: false, runner };
  const page: Pull = (_id, n, observer) =>
    later(() => {
      const end = Math.min(server.sent + n, total);
      while (server.sent < end) observer.onNext([value(server.sent++)]);
      observer.onCompleted(server.sent < total ? { has_more: true } : { type: 'r' });
    });
  /** A transaction of a session with this fetch size. */
  function runner(fetchSize: number): QueryRunner {
    const run = (text: string, params: Record<string, unknown>) => {
      // the watermarks a session sets for its fetch size
      const watermarks = { high: 0.7 * fetchSize, low: 0.3 * fetchSize };
      const observer = new ResultStreamObserver({
        fetchSize,
        highRecordWatermark: watermarks.high,
        lowRecordWatermark: watermarks.low,
        moreFunction: page,
        discardFunction: (_id, o) => {
          server.discarded = true;
          later(() => o.onCompleted({ type: 'r' }));
        },
      });
      // RUN and the first PULL go out together
      later(() => observer.onCompleted({ fields: ['x'] }));
      page(null, fetchSize, observer);
      type Streamed = ConstructorParameters<typeof Result>[0];
      return new Result(
        Promise.resolve(observer) as unknown as Streamed,
        text,
        params,
        undefined,
        watermarks,
      );
    };
    return { run } as unknown as QueryRunner;
  }
  return server;
}

/** runCapped in a slot, as the console and investigations run it, on `server`. */
async function runOn(
  server: ReturnType<typeof fakeServer>,
  maxRows: number,
  maxBytes: number,
  rowExtraBytes?: number,
) {
  const ctx = {
    config: {
      QUERY_MAX_CONCURRENT: 1,
      QUERY_MAX_ROWS: maxRows,
      QUERY_MAX_BYTES: maxBytes,
      QUERY_TIMEOUT_MS: 1000,
    },
    db: {
      readOnce: <T>(work: (tx: QueryRunner) => Promise<T>, opts: { fetchSize?: number }) =>
        work(server.runner(opts.fetchSize ?? -1)),
    },
  } as unknown as Context;
  const slot = new AnalystQueries(ctx).reserve('test');
  try {
    return await slot.run({ text: 'RETURN x', params: {}, checkPlan: false, rowExtraBytes });
  } finally {
    slot.release();
  }
}

/** A row of `{"x":"…"}` is 8 bytes of JSON around its string. */
const kb = () => 'a'.repeat(1000);

describe('runCapped', () => {
  it('stops at the record that crosses the byte cap: the server sends at most one more', async () => {
    const server = fakeServer(500, kb);
    const out = await runOn(server, 1000, 5000);
    // four rows of 1,008 bytes fit in 5,000; the fifth crosses and is not returned
    expect(out).toMatchObject({ columns: ['x'], truncated: true });
    expect(out.rows).toHaveLength(4);
    // the fifth, and one the driver asked for ahead; then the rest is dropped on the server
    expect(server.sent).toBeLessThanOrEqual(out.rows.length + 2);
    expect(server.discarded).toBe(true);
  });

  it("counts the bytes the caller adds to each row (an investigation's aged) against the cap", async () => {
    // 1,008 + 14 bytes a row: four fit in 5,000 without the addition, still four with it
    // (4,088), and three when 5,000 would hold four rows only without it
    expect((await runOn(fakeServer(500, kb), 1000, 5000, 14)).rows).toHaveLength(4);
    expect((await runOn(fakeServer(500, kb), 1000, 4040)).rows).toHaveLength(4);
    const out = await runOn(fakeServer(500, kb), 1000, 4040, 14);
    expect(out).toMatchObject({ truncated: true });
    expect(out.rows).toHaveLength(3);
  });

  it('stops at the row cap the same way, and reads a result within both caps whole', async () => {
    const capped = fakeServer(500, (i) => i);
    const out = await runOn(capped, 10, 1 << 20);
    expect(out.truncated).toBe(true);
    expect(out.rows.map((r) => r.x)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(capped.sent).toBeLessThanOrEqual(12);

    const whole = fakeServer(7, (i) => i);
    expect(await runOn(whole, 10, 1 << 20)).toEqual({
      columns: ['x'],
      rows: [0, 1, 2, 3, 4, 5, 6].map((x) => ({ x })),
      truncated: false,
    });
    expect(whole.sent).toBe(7);
  });
});
