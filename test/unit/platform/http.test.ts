/**
 * The one error handler: every "later" answer (429, 503) says when, in Retry-After, so
 * clients and proxies that honour it do not resend at once into a full queue.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import { AppError, type ErrorCode } from '../../../src/platform/errors';
import type { ZodType } from 'zod';
import { clusterDetailQuery, listClustersQuery } from '../../../src/clusters/schemas';
import { listQuery } from '../../../src/linkage/schemas';
import { errorHandler, notFound, parseQuery } from '../../../src/platform/http';
import { listAuditQuery, listVerdictsQuery } from '../../../src/verdicts/schemas';
import { createLogger } from '../../../src/platform/logger';

it('sets Retry-After on 429 and 503 answers, and on no other', async () => {
  const app = express();
  app.get('/fail/:code', (req) => {
    throw new AppError(req.params.code as ErrorCode, 'no');
  });
  app.use(errorHandler(createLogger('silent')));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/fail/`;
  try {
    const answer = async (code: ErrorCode) => {
      const res = await fetch(base + code);
      return [res.status, res.headers.get('retry-after')];
    };
    expect(await answer('database_busy')).toEqual([503, '1']);
    expect(await answer('too_many_queries')).toEqual([429, '1']);
    expect(await answer('database_unavailable')).toEqual([503, '5']);
    expect(await answer('not_ready')).toEqual([503, '5']);
    expect(await answer('conflict')).toEqual([409, null]);
    expect(await answer('query_timeout')).toEqual([504, null]);
  } finally {
    await new Promise((r) => server.close(r));
  }
});

it("logs a failed request's path cut: per segment when routed, its first 64 characters when not", async () => {
  // Review, 12-05: a path no route took was cut per segment, so a prompt with a `/`
  // every few words was logged nearly whole.
  const lines: string[] = [];
  const logger = createLogger('info', { write: (l: string) => void lines.push(l) });
  const app = express();
  app.get('/v1/clusters/:id', () => {
    throw new Error('boom');
  });
  app.use(() => {
    throw new Error('boom before any route');
  });
  app.use(errorHandler(logger));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const words = Array.from({ length: 40 }, (_, i) => `word${i}`);
  try {
    expect((await fetch(`${base}/v1/clusters/${words.join('-')}`)).status).toBe(500);
    expect((await fetch(`${base}/${words.join('/')}`)).status).toBe(500);
  } finally {
    await new Promise((r) => server.close(r));
  }
  const paths = lines.map((l) => (JSON.parse(l) as { path: string }).path);
  expect(paths).toEqual([
    `/v1/clusters/${words.join('-').slice(0, 64)}…`,
    `/${words.join('/')}`.slice(0, 64) + '…',
  ]);
});

it('answers a path that is not valid percent-encoding with a fixed text, not the path (review, 12-06)', async () => {
  const app = express();
  app.get('/v1/accounts/:id', (_req, res) => void res.json({ ok: true }));
  app.use(notFound);
  app.use(errorHandler(createLogger('silent')));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const res = await fetch(`${base}/v1/accounts/%E0%A4%A${'PROMPT-TEXT-'.repeat(300)}`);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error).toMatchObject({
      code: 'bad_request',
      message: 'the path is not valid percent-encoding',
    });
    expect(JSON.stringify(body)).not.toContain('PROMPT-TEXT');
    // …nor a path no route takes, whole
    const unrouted = await fetch(`${base}/v1/account/${'PROMPT-TEXT-'.repeat(300)}`);
    expect(unrouted.status).toBe(404);
    const message = ((await unrouted.json()) as { error: { message: string } }).error.message;
    expect(message).toBe(
      `no route for GET ${`/v1/account/${'PROMPT-TEXT-'.repeat(300)}`.slice(0, 64)}…`,
    );
  } finally {
    await new Promise((r) => server.close(r));
  }
});

it('refuses a query parameter given twice as such, on every list route (review, 12-06)', () => {
  const cases: [ZodType, Record<string, unknown>, string][] = [
    [listClustersQuery, { limit: ['10', '10'] }, 'limit'],
    [listClustersQuery, { minRisk: ['0.1', '0.2'], flagged: 'true' }, 'minRisk'],
    [listClustersQuery, { flagged: ['true', 'true'] }, 'flagged'],
    [clusterDetailQuery, { memberLimit: ['5', '5'] }, 'memberLimit'],
    [listVerdictsQuery, { verdict: ['benign', 'benign'] }, 'verdict'],
    [listAuditQuery, { action: ['verdict', 'cypher'] }, 'action'],
    [listQuery, { limit: ['1', '2'] }, 'limit'],
  ];
  for (const [schema, query, name] of cases) {
    let thrown: unknown;
    try {
      parseQuery(schema, query);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toMatchObject({
      code: 'validation_failed',
      details: [{ path: name, message: 'given more than once: send it once' }],
    });
  }
  // once, it parses; an unknown name given twice is unknown, as before
  expect(parseQuery(listClustersQuery, { limit: '10' })).toMatchObject({ limit: 10 });
  expect(() => parseQuery(listClustersQuery, { lmit: ['1', '2'] })).toThrow(
    expect.objectContaining({
      details: [{ path: '', message: expect.stringContaining('unknown parameter "lmit"') }],
    }),
  );
});
