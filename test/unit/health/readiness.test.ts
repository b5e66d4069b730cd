/** /readyz is open to anyone who reaches the port: probes must not each cost Neo4j work. */
import type { AddressInfo } from 'node:net';
import express from 'express';
import { healthRoutes, Readiness } from '../../../src/health/routes';
import { loadCypher } from '../../../src/platform/cypher';
import { AppError } from '../../../src/platform/errors';
import { errorHandler } from '../../../src/platform/http';
import { createLogger } from '../../../src/platform/logger';
import type { Database } from '../../../src/platform/neo4j';

const cypher = loadCypher();
const migrations = [...cypher.keys()].filter((k) => k.startsWith('migrations/')).length;

function fakeDb(
  opts: { down?: () => boolean; migrated?: () => number; readFails?: () => boolean } = {},
) {
  const calls = { ping: 0, read: 0 };
  const db = {
    async ping() {
      calls.ping++;
      if (opts.down?.()) throw new Error('connection refused');
    },
    async read(work: (tx: unknown) => Promise<unknown>) {
      calls.read++;
      if (opts.readFails?.()) throw new AppError('database_unavailable', 'Neo4j is unreachable');
      return work({
        run: async () => ({ records: [{ get: () => opts.migrated?.() ?? migrations }] }),
      });
    },
  };
  return { db: db as unknown as Database, calls };
}

describe('Readiness', () => {
  it('shares one check among concurrent probes and keeps its answer for a second', async () => {
    let now = 0;
    const { db, calls } = fakeDb();
    const readiness = new Readiness(db, cypher, () => now);
    await Promise.all(Array.from({ length: 50 }, () => readiness.check()));
    expect(calls).toEqual({ ping: 1, read: 1 });
    now = 999;
    await readiness.check();
    expect(calls.ping).toBe(1);
    now = 1000;
    await readiness.check();
    // Pinged again; migrations once applied are not counted again.
    expect(calls).toEqual({ ping: 2, read: 1 });
  });

  it('a ping answered but the migrations count failed is not_ready too, and counted again after (review, 12-06)', async () => {
    let now = 0;
    let fails = true;
    const { db, calls } = fakeDb({ readFails: () => fails });
    const readiness = new Readiness(db, cypher, () => now);
    await expect(readiness.check()).rejects.toMatchObject({
      code: 'not_ready',
      details: { neo4j: 'down' },
    });
    fails = false;
    now = 1000;
    await expect(readiness.check()).resolves.toBeUndefined();
    expect(calls).toEqual({ ping: 2, read: 2 });
  });

  it('a fault of ours in the count is not "Neo4j down": it stays an error of its own', async () => {
    const db = {
      ping: async () => undefined,
      read: async () => {
        throw new TypeError('a bug');
      },
    } as unknown as Database;
    await expect(new Readiness(db, cypher).check()).rejects.toThrow(TypeError);
  });

  it('keeps a failure for a second too, then sees Neo4j back', async () => {
    let now = 0;
    let down = true;
    const { db, calls } = fakeDb({ down: () => down });
    const readiness = new Readiness(db, cypher, () => now);
    const probes = await Promise.allSettled([readiness.check(), readiness.check()]);
    expect(probes.map((p) => p.status)).toEqual(['rejected', 'rejected']);
    await expect(readiness.check()).rejects.toMatchObject({
      code: 'not_ready',
      details: { neo4j: 'down' },
    });
    expect(calls.ping).toBe(1);
    down = false;
    now = 1000;
    await expect(readiness.check()).resolves.toBeUndefined();
    expect(calls.ping).toBe(2);
  });

  it('counts migrations again until they are applied', async () => {
    let now = 0;
    let applied = 0;
    const { db, calls } = fakeDb({ migrated: () => applied });
    const readiness = new Readiness(db, cypher, () => now);
    await expect(readiness.check()).rejects.toMatchObject({
      code: 'not_ready',
      details: { migrations: 'pending' },
    });
    applied = migrations;
    now = 1000;
    await readiness.check();
    now = 2000;
    await readiness.check();
    expect(calls.read).toBe(2);
  });

  it('counts migrations again after a failed ping: Neo4j may come back as another database (review, 12-05)', async () => {
    let now = 0;
    let down = false;
    let applied = migrations;
    const { db, calls } = fakeDb({ down: () => down, migrated: () => applied });
    const readiness = new Readiness(db, cypher, () => now);
    await readiness.check();
    down = true;
    now = 1000;
    await expect(readiness.check()).rejects.toMatchObject({ details: { neo4j: 'down' } });
    // restored from a backup, or dropped and recreated: no migrations
    down = false;
    applied = 0;
    now = 2000;
    await expect(readiness.check()).rejects.toMatchObject({
      details: { migrations: 'pending' },
    });
    expect(calls.read).toBe(2);
  });

  it('counts the migrations by name: a record of a removed one is no stand-in for a missing one', async () => {
    const seen: unknown[] = [];
    const db = {
      ping: async () => undefined,
      read: async (work: (tx: unknown) => Promise<unknown>) =>
        work({
          run: async (text: string, params: { names: string[] }) => {
            seen.push({ text, params });
            // every name but the last is stored; so is one no file has any more
            return { records: [{ get: () => params.names.length - 1 }] };
          },
        }),
    } as unknown as Database;
    await expect(new Readiness(db, cypher).check()).rejects.toMatchObject({
      details: { migrations: 'pending' },
    });
    expect(seen).toEqual([
      {
        text: expect.stringContaining('m.name IN $names'),
        params: { names: expect.arrayContaining(['001-create-account-id-unique']) },
      },
    ]);
  });

  it('answers not ready while a ping hangs, without piling up pings, and pings afresh once it ends', async () => {
    jest.useFakeTimers();
    try {
      let now = 0;
      let pings = 0;
      let endHung: ((err: Error) => void) | undefined;
      const db = {
        ping: () => {
          pings++;
          if (pings > 1) return Promise.resolve();
          return new Promise<void>((_resolve, reject) => (endHung = reject));
        },
        read: async (work: (tx: unknown) => Promise<unknown>) =>
          work({ run: async () => ({ records: [{ get: () => migrations }] }) }),
      } as unknown as Database;
      const readiness = new Readiness(db, cypher, () => now);
      const notReady = async () => {
        const caught = readiness.check().catch((err: unknown) => err);
        await jest.advanceTimersByTimeAsync(5000);
        expect(await caught).toMatchObject({ code: 'not_ready', details: { neo4j: 'down' } });
      };
      await notReady();
      now = 10_000;
      await notReady(); // the hung ping raced again, not a second one started
      expect(pings).toBe(1);
      endHung!(new Error('connection reset'));
      await jest.advanceTimersByTimeAsync(0);
      now = 20_000;
      await expect(readiness.check()).resolves.toBeUndefined();
      expect(pings).toBe(2);
    } finally {
      jest.useRealTimers();
    }
  });
});

it('/readyz answers 503 once the service has begun to stop, without asking Neo4j', async () => {
  let stopping = false;
  const { db, calls } = fakeDb();
  const app = express();
  app.use(healthRoutes({ db, cypher, stopping: () => stopping }));
  app.use(errorHandler(createLogger('silent')));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/readyz`;
  try {
    expect((await fetch(url)).status).toBe(200);
    stopping = true;
    const res = await fetch(url);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({
      error: { code: 'not_ready', details: { stopping: true } },
    });
    expect(calls.ping).toBe(1);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
