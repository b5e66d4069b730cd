/**
 * What the API does when Neo4j goes away: 503 with a stable code, and a batch
 * caught mid-write by a killed database leaves nothing behind.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import neo4jDriver from 'neo4j-driver';
import { type LocalNeo4j, startLocalNeo4j } from '../../src/platform/neo4j-local';
import { getJson } from '../support/analyst-fixtures';
import { waitForBlocked } from '../support/neo4j';
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

it('answers 503 while Neo4j is down, and a batch killed half-written leaves nothing', async () => {
  local = await start();
  svc = await startService(local, {
    INGEST_MAX_EVENTS: '50000',
    INGEST_MAX_BODY_BYTES: '50000000',
  });
  const ok = await postJson(`${svc.url}/v1/events`, {
    events: [
      { type: 'request', accountId: 'before', at: new Date(T).toISOString(), model: 'model-2' },
    ],
  });
  expect(ok.status).toBe(200);

  // Hold a write lock on model-2, which the big batch's transaction links to after it
  // has written its accounts and their IP and payment links: it blocks there, half
  // written, until the database is killed.
  const holder = neo4jDriver.driver(local.uri, neo4jDriver.auth.basic(local.user, local.password));
  const session = holder.session();
  const lock = session.beginTransaction();
  await lock.run("MATCH (m:Model {name: 'model-2'}) SET m.held = true");
  const pending = postJson(`${svc.url}/v1/events`, bigBatch);
  // Blocked in the model statement (cypher/ingest/merge-model-use.cypher, the only one
  // naming USED_MODEL): the statements before it (writer.ts runs them in order) wrote.
  await waitForBlocked(holder, 1, 'the batch never reached the held lock', 'USED_MODEL');
  process.kill(local.pid, 'SIGKILL'); // no clean shutdown
  await lock.rollback().catch(() => undefined);
  await session.close().catch(() => undefined);
  await holder.close().catch(() => undefined);
  const during = await pending;
  expect([during.status, (during.body.error as { code: string }).code]).toEqual([
    503,
    'database_unavailable',
  ]);

  const after = await postJson(`${svc.url}/v1/events`, {
    events: [{ type: 'signup', accountId: 'after', at: new Date(T).toISOString() }],
  });
  expect(after.status).toBe(503);
  expect((after.body.error as { code: string }).code).toBe('database_unavailable');
  // An investigation's audit entries (started, then its outcome) are retried for 2 s each,
  // not the driver's 30 s apiece: its 503 comes within seconds (review, 12-04: ~60 s, with
  // its query slot held for the first 30). Its log lines hold the record.
  const asked = Date.now();
  const investigation = await postJson(`${svc.url}/v1/investigations/signup-bursts`, {
    from: '2026-01-01T00:00:00Z',
    to: '2026-12-01T00:00:00Z',
  });
  expect([investigation.status, (investigation.body.error as { code: string }).code]).toEqual([
    503,
    'database_unavailable',
  ]);
  expect(Date.now() - asked).toBeLessThan(20_000);
  const audited = svc.logs.filter(
    (l) => l.includes('"audit":true') && l.includes('"target":"signup-bursts"'),
  );
  expect(audited.map((l) => (JSON.parse(l) as { outcome: string }).outcome)).toEqual([
    'started',
    'database_unavailable',
  ]);
  const ready = await fetch(`${svc.url}/readyz`);
  expect(ready.status).toBe(503);
  expect(((await ready.json()) as { error: { code: string } }).error.code).toBe('not_ready');
  expect((await getJson(`${svc.url}/healthz`)).status).toBe(200);
  await svc.stop();
  svc = undefined;
  await local.stop();

  // Same data directory after recovery: nothing of the killed batch.
  local = await start();
  const driver = neo4jDriver.driver(local.uri, neo4jDriver.auth.basic(local.user, local.password));
  try {
    const res = await driver.executeQuery(
      `MATCH (a:Account) WHERE a.id STARTS WITH 'big-' RETURN count(a) AS accounts, coalesce(sum(a.requests), 0) AS requests`,
    );
    const accounts = Number(res.records[0]?.get('accounts'));
    const requests = Number(res.records[0]?.get('requests'));
    expect({ accounts, requests }).toEqual({ accounts: 0, requests: 0 }); // none of it
    const before = await driver.executeQuery(
      `MATCH (a:Account {id: 'before'}) RETURN count(a) AS n`,
    );
    expect(Number(before.records[0]?.get('n'))).toBe(1);
  } finally {
    await driver.close();
  }
});
