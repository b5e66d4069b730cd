/**
 * POST /v1/events while its batch waits for the writer: the request's parsed body (the
 * prompts' text) is let go, so what queued batches hold is their clean events only. The
 * queue's bound counts events; a batch of 10 events can carry megabytes of prompts.
 */
import { type ClientRequest, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import express from 'express';
import type { CleanEvent } from '../../../src/ingest/event-schema';
import { ingestRoutes } from '../../../src/ingest/routes';
import { GroupCommit } from '../../../src/ingest/group-commit';
import type { EventWriter, WriteResult } from '../../../src/ingest/writer';
import { errorHandler } from '../../../src/platform/http';
import { createLogger } from '../../../src/platform/logger';
import { Metrics } from '../../../src/platform/metrics';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * POSTs `body` and resolves to the status. node:http lets the body go once it is on the
 * socket (fetch would hold it until the answer, in this same process), and no closure
 * here captures it.
 */
function post(url: string, body: string): Promise<number> {
  const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json' } });
  const status = statusOf(req);
  req.end(body);
  return status;
}

function statusOf(req: ClientRequest): Promise<number> {
  return new Promise((resolve, reject) => {
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
  });
}

const heapMiB = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

it('a batch waiting for its write holds its clean events, not the prompts it was sent with', async () => {
  const waiting: { events: readonly CleanEvent[]; release: (r: WriteResult) => void }[] = [];
  const writer = {
    write: (events: readonly CleanEvent[]) =>
      new Promise<WriteResult>((release) => waiting.push({ events, release })),
  };
  const app = express();
  app.use((req, _res, next) => {
    req.principal = { name: 'test', role: 'ingest' };
    next();
  });
  app.use(
    ingestRoutes({ writer, maxEvents: 100, maxBodyBytes: 64 * 2 ** 20, metrics: new Metrics() }),
  );
  app.use(errorHandler(createLogger('silent')));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/events`;
  try {
    const before = heapMiB();
    // 6 batches of 10 prompts of 900,000 characters (a prompt may have 1,000,000): 51 MiB
    // of text (one byte a character) held had each parsed body stayed referenced (87 MiB
    // with 10 batches, 53 MiB with these 6, on the code before 12-04; 1 MiB since).
    const requests = Array.from({ length: 6 }, (_, b) => {
      const events = Array.from({ length: 10 }, (_, i) => ({
        type: 'request',
        accountId: `acct-${b}-${i}`,
        at: '2026-02-01T00:00:00Z',
        prompt: `${String.fromCharCode(97 + ((b + i) % 26))} `.repeat(450_000),
      }));
      return post(url, JSON.stringify({ events }));
    });
    // A request answered before its write (an error) fails the test here, not by a hang.
    let answered = false;
    void Promise.allSettled(requests).then(() => (answered = true));
    while (waiting.length < requests.length && !answered) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(waiting).toHaveLength(requests.length);
    const held = heapMiB() - before;
    // Every batch arrived whole, prompts as fingerprints only.
    for (const w of waiting) {
      expect(w.events).toHaveLength(10);
      expect(w.events[0]).not.toHaveProperty('prompt');
      expect(w.events[0]?.promptFingerprint).toMatch(/^[0-9a-f]{16}$/);
    }
    for (const w of waiting) w.release({ received: 10, written: 10, duplicates: 0 });
    expect(await Promise.all(requests)).toEqual(requests.map(() => 200));
    expect(held).toBeLessThan(20);
  } finally {
    await new Promise((r) => server.close(r));
  }
}, 120_000); // fingerprinting 50 MB of prompts takes seconds

it('refuses a batch the write queue has no room for before it validates or fingerprints it (review, 12-06)', async () => {
  // The queue-full 503 came from the writer, after every prompt of the batch had been
  // fingerprinted: under overload each refused retry cost up to ~0.7 s of the event loop.
  const held: (() => void)[] = [];
  // GroupCommit writes a group with writeMany: each call waits until the test releases it.
  const stuck = {
    writeMany: (batches: readonly (readonly CleanEvent[])[]) =>
      new Promise<WriteResult[]>((resolve) =>
        held.push(() =>
          resolve(batches.map((b) => ({ received: b.length, written: b.length, duplicates: 0 }))),
        ),
      ),
  } as unknown as EventWriter;
  const writer = new GroupCommit(stuck, { maxEvents: 100, maxInFlight: 1, maxQueuedEvents: 2 });
  const metrics = new Metrics();
  const app = express();
  app.use((req, _res, next) => {
    req.principal = { name: 'test', role: 'ingest' };
    next();
  });
  app.use(ingestRoutes({ writer, maxEvents: 100, maxBodyBytes: 2 ** 20, metrics }));
  app.use(errorHandler(createLogger('silent')));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/events`;
  const event = (i: number) => ({
    type: 'signup',
    accountId: `q-${i}`,
    at: '2026-02-01T00:00:00Z',
  });
  try {
    const inFlight = post(url, JSON.stringify({ events: [event(0)] }));
    const queued = post(url, JSON.stringify({ events: [event(1), event(2)] }));
    while (held.length < 1) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 100)); // the second is parsed and queued
    // An invalid batch is answered 503, not 400: the check ran before validation.
    const invalid = { events: [{ type: 'signup', accountId: 'q-x' }] };
    expect(await post(url, JSON.stringify(invalid))).toBe(503);
    expect(await post(url, JSON.stringify({ events: [event(3)] }))).toBe(503);
    held.splice(0).forEach((f) => f());
    expect(await inFlight).toBe(200);
    while (held.length < 1) await new Promise((r) => setTimeout(r, 10));
    held.splice(0).forEach((f) => f());
    expect(await queued).toBe(200);
    // with room again, the invalid batch is judged: 400
    expect(await post(url, JSON.stringify(invalid))).toBe(400);
  } finally {
    await new Promise((r) => server.close(r));
  }
});
