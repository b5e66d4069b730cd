/**
 * What the API does when Neo4j goes away: 503 with a stable code, and a batch
 * caught mid-write by a killed database is all there or not there at all.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import neo4jDriver from 'neo4j-driver';
import { type LocalNeo4j, startLocalNeo4j } from '../../src/platform/neo4j-local';
import { postJson, startService, type TestService } from '../support/service';

const dataDir = mkdtempSync(path.join(tmpdir(), 'coterie-down-'));
const start = () => startLocalNeo4j({ dataDir, port: 0, heap: '512m', pagecache: '128m' });
let local: LocalNeo4j | undefined;
let svc: TestService | undefined;

afterAll(async () => {
  await svc?.stop();
  await local?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const T = Date.UTC(2026, 1, 1);
const bigBatch = {
  events: Array.from({ length: 20000 }, (_, i) => ({
    type: 'request',
    accountId: `big-${i % 4000}`,
    at: new Date(T + i * 60_000).toISOString(),
    ip: `10.${i % 200}.${i % 7}.1`,
    paymentMethod: `pm-${i % 900}`,
    model: `model-${i % 3}`,
  })),
};

// Writes against a dead database retry for the driver's maxTransactionRetryTime (30 s)
// before answering 503; the batch in flight and the one after it each wait that long.
jest.setTimeout(300_000);

it('answers 503 while Neo4j is down, and never leaves half a batch', async () => {
  local = await start();
  svc = await startService(local.uri, {
    INGEST_MAX_EVENTS: '50000',
    INGEST_MAX_BODY_BYTES: '50000000',
  });
  const ok = await postJson(`${svc.url}/v1/events`, {
    events: [{ type: 'signup', accountId: 'before', at: new Date(T).toISOString() }],
  });
  expect(ok.status).toBe(200);

  // Kill the database (no clean shutdown) while the big batch is being written.
  const pending = postJson(`${svc.url}/v1/events`, bigBatch);
  await new Promise((r) => setTimeout(r, 400));
  process.kill(local.pid, 'SIGKILL');
  const during = await pending;
  expect([200, 503]).toContain(during.status);
  if (during.status === 503)
    expect((during.body.error as { code: string }).code).toBe('database_unavailable');

  const after = await postJson(`${svc.url}/v1/events`, {
    events: [{ type: 'signup', accountId: 'after', at: new Date(T).toISOString() }],
  });
  expect(after.status).toBe(503);
  expect((after.body.error as { code: string }).code).toBe('database_unavailable');
  const ready = await fetch(`${svc.url}/readyz`);
  expect(ready.status).toBe(503);
  expect(((await ready.json()) as { error: { code: string } }).error.code).toBe('not_ready');
  expect((await fetch(`${svc.url}/healthz`)).status).toBe(200);
  await svc.stop();
  svc = undefined;
  await local.stop();

  // Same data directory after recovery: the killed batch is whole or absent.
  local = await start();
  const driver = neo4jDriver.driver(local.uri);
  try {
    const res = await driver.executeQuery(
      `MATCH (a:Account) WHERE a.id STARTS WITH 'big-' RETURN count(a) AS accounts, coalesce(sum(a.requests), 0) AS requests`,
    );
    const accounts = Number(res.records[0]?.get('accounts'));
    const requests = Number(res.records[0]?.get('requests'));
    const whole = accounts === 4000 && requests === 20000;
    const absent = accounts === 0 && requests === 0;
    if (during.status === 200) expect(whole).toBe(true);
    else
      expect({ accounts, requests, wholeOrAbsent: whole || absent }).toMatchObject({
        wholeOrAbsent: true,
      });
    const before = await driver.executeQuery(
      `MATCH (a:Account {id: 'before'}) RETURN count(a) AS n`,
    );
    expect(Number(before.records[0]?.get('n'))).toBe(1);
  } finally {
    await driver.close();
  }
});
