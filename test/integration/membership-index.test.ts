/**
 * The in-memory membership index over HTTP against a real Neo4j: once loaded it
 * answers GET /v1/accounts/{id}/cluster exactly as the Neo4j path does (a second
 * service on the same database with the index off), without a membership read;
 * an account ingested after the load is found through Neo4j; a new run is
 * answered from the new run only; paging, a too-big run and a failed load.
 */
import type { ManagedTransaction } from 'neo4j-driver';
import { MembershipIndex } from '../../src/clusters/membership-index';
import { analystState, watchCurrentRun } from '../../src/clusters/state';
import { query } from '../../src/platform/cypher';
import type { Database } from '../../src/platform/neo4j';
import { startTestNeo4j, type TestNeo4j } from '../support/neo4j';
import { postJson, startService, type TestService } from '../support/service';
import {
  API_KEYS,
  BENIGN,
  BENIGN_CLUSTER,
  RING,
  RING_CLUSTER,
  auth,
  getJson,
  ingestWorld,
  seedRun,
} from '../support/analyst-fixtures';

let neo4j: TestNeo4j;
/** index on */
let svc: TestService;
/** index off: every lookup reads Neo4j */
let plain: TestService;
/** every query text svc ran through Database.read */
const queries: string[] = [];

const ACCOUNTS = [...RING, ...BENIGN, 'solo:0'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const membershipOf = (s: TestService, id: string) =>
  getJson(`${s.url}/v1/accounts/${id}/cluster`, auth('analyst'));
const membershipReads = () =>
  queries.filter((q) => q === query(svc.ctx.cypher, 'accounts/read-account-membership')).length;

/** Recording wrapper around db.read: which queries ran, for asserting the index answered. */
function recordReads(db: Database): void {
  const read = db.read.bind(db);
  jest.spyOn(db, 'read').mockImplementation((work, ...rest) =>
    read(
      (tx) =>
        work({
          run: (text: string, params?: Record<string, unknown>) => {
            queries.push(text);
            return tx.run(text, params);
          },
        } as ManagedTransaction),
      ...rest,
    ),
  );
}

/** Requests (which read the pointer) until svc's index holds runId. */
async function indexReady(runId: string): Promise<void> {
  const index = analystState(svc.ctx).membershipIndex;
  const deadline = Date.now() + 20_000;
  for (;;) {
    await membershipOf(svc, 'solo:0');
    const status = await index.settled();
    if (status.state === 'ready' && status.runId === runId) return;
    if (Date.now() > deadline) throw new Error(`index not ready: ${JSON.stringify(status)}`);
    await sleep(50);
  }
}

async function expectSameAnswers(ids: string[]): Promise<void> {
  for (const id of ids) {
    const [a, b] = await Promise.all([membershipOf(svc, id), membershipOf(plain, id)]);
    expect({ id, status: a.status, body: a.body }).toEqual({ id, status: b.status, body: b.body });
  }
}

beforeAll(async () => {
  neo4j = await startTestNeo4j();
  const env = { API_KEYS, CURRENT_RUN_CHECK_MS: '100', LINKAGE_CRON: 'off' };
  svc = await startService(neo4j, env);
  plain = await startService(neo4j, { ...env, MEMBERSHIP_INDEX_MAX_ACCOUNTS: '0' });
  recordReads(svc.ctx.db);
  await ingestWorld(svc.url);
  await seedRun(neo4j.driver, 'r-1', [RING_CLUSTER, BENIGN_CLUSTER], 1_000);
  await sleep(150);
});

afterAll(async () => {
  await svc?.stop();
  await plain?.stop();
  await neo4j?.stop();
});

describe('membership index', () => {
  it('answers members, non-members and unknown ids exactly as Neo4j does', async () => {
    await indexReady('r-1');
    expect(analystState(svc.ctx).membershipIndex.status()).toEqual({
      state: 'ready',
      runId: 'r-1',
      accounts: ACCOUNTS.length,
      clusters: 2,
    });
    expect(svc.logs.join('')).toContain('membership index: loaded');
    queries.length = 0;
    await expectSameAnswers([...ACCOUNTS, 'nobody']);
    expect((await membershipOf(svc, 'ring:2')).body).toMatchObject({
      runId: 'r-1',
      cluster: { id: 'c-ring', risk: 0.93, flagged: true, size: 6, reasons: RING_CLUSTER.reasons },
    });
    expect((await membershipOf(svc, 'solo:0')).body).toEqual({
      accountId: 'solo:0',
      runId: 'r-1',
      cluster: null,
    });
    expect((await membershipOf(svc, 'nobody')).status).toBe(404);
    // Only the unknown id (twice: a 404 is never cached) reached Neo4j.
    expect(membershipReads()).toBe(2);
    expect(analystState(plain.ctx).membershipIndex.status().state).toBe('disabled');
  });

  it('finds an account ingested after the load (no cluster, not 404), through Neo4j', async () => {
    const res = await postJson(
      `${svc.url}/v1/events`,
      { events: [{ type: 'signup', accountId: 'late:0', at: '2026-02-02T00:00:00Z' }] },
      auth('ingest'),
    );
    expect(res.status).toBe(200);
    queries.length = 0;
    expect(await membershipOf(svc, 'late:0')).toMatchObject({
      status: 200,
      body: { accountId: 'late:0', runId: 'r-1', cluster: null },
    });
    await expectSameAnswers(['late:0']);
    // The first answer was read from Neo4j, the second came from the cache.
    expect(membershipReads()).toBe(1);
  });

  it('follows a new run: answers are for the new run only, then from its index', async () => {
    const split = { ...RING_CLUSTER, id: 'c-ring-a', members: RING.slice(0, 3) };
    const rest = {
      ...RING_CLUSTER,
      id: 'c-ring-b',
      risk: 0.81,
      members: [...RING.slice(3), 'late:0'],
    };
    await seedRun(neo4j.driver, 'r-2', [split, rest], 2_000);
    await sleep(150);
    // The first request after the pointer check sees r-2: never r-1's memberships,
    // whether the index is still loading or not.
    for (let round = 0; round < 3; round++) {
      await expectSameAnswers([...ACCOUNTS, 'late:0']);
      for (const id of [...ACCOUNTS, 'late:0']) {
        expect((await membershipOf(svc, id)).body.runId).toBe('r-2');
      }
    }
    await indexReady('r-2');
    expect(analystState(svc.ctx).membershipIndex.status()).toMatchObject({
      runId: 'r-2',
      accounts: ACCOUNTS.length + 1,
      clusters: 2,
    });
    queries.length = 0;
    await expectSameAnswers([...ACCOUNTS, 'late:0', 'nobody']);
    expect((await membershipOf(svc, 'late:0')).body).toMatchObject({
      runId: 'r-2',
      cluster: { id: 'c-ring-b', risk: 0.81, size: 4 },
    });
    expect((await membershipOf(svc, 'ben:0')).body).toMatchObject({ runId: 'r-2', cluster: null });
    expect(membershipReads()).toBe(1); // 'nobody'
  });

  it('pages through accounts and clusters (keyset by id) to the same answers', async () => {
    const index = new MembershipIndex({
      db: svc.ctx.db,
      cypher: svc.ctx.cypher,
      logger: svc.ctx.logger,
      maxAccounts: 100,
      pageSize: 2,
    });
    index.onRun('r-2');
    expect((await index.settled()).state).toBe('ready');
    expect(index.status()).toMatchObject({ accounts: ACCOUNTS.length + 1, clusters: 2 });
    for (const id of [...ACCOUNTS, 'late:0']) {
      expect(index.lookup('r-2', id)).toEqual((await membershipOf(plain, id)).body);
    }
    expect(index.lookup('r-2', 'nobody')).toBeUndefined();
    expect(index.lookup('r-1', 'ring:0')).toBeUndefined();
  });

  it('is not built for a run with more accounts than the limit (logged)', async () => {
    const index = new MembershipIndex({
      db: svc.ctx.db,
      cypher: svc.ctx.cypher,
      logger: svc.ctx.logger,
      maxAccounts: 3,
    });
    index.onRun('r-2');
    expect(await index.settled()).toMatchObject({ state: 'too_large', accounts: 0 });
    expect(index.lookup('r-2', 'ring:0')).toBeUndefined();
    expect(svc.logs.join('')).toContain('more accounts than MEMBERSHIP_INDEX_MAX_ACCOUNTS');
  });

  it('a failed load is logged, lookups fall back, and a later lookup retries it', async () => {
    const db = svc.ctx.db;
    let failures = 1;
    const flaky = {
      read: (work: (tx: ManagedTransaction) => Promise<unknown>, timeoutMs?: number) =>
        failures-- > 0 ? Promise.reject(new Error('Neo4j went away')) : db.read(work, timeoutMs),
    } as unknown as Database;
    const index = new MembershipIndex({
      db: flaky,
      cypher: svc.ctx.cypher,
      logger: svc.ctx.logger,
      maxAccounts: 100,
      retryMs: 0,
    });
    index.onRun('r-2');
    expect((await index.settled()).state).toBe('failed');
    expect(svc.logs.join('')).toContain('membership index: load failed');
    expect(index.lookup('r-2', 'ring:0')).toBeUndefined(); // and starts the retry
    expect((await index.settled()).state).toBe('ready');
    expect(index.lookup('r-2', 'ring:0')?.cluster?.id).toBe('c-ring-a');
  });

  it('a watched replica loads a new run with no request; an unwatched one waits for one', async () => {
    const watched = await startService(neo4j, {
      API_KEYS,
      CURRENT_RUN_CHECK_MS: '100',
      LINKAGE_CRON: 'off',
    });
    const watch = watchCurrentRun(watched.ctx);
    try {
      const index = analystState(watched.ctx).membershipIndex;
      const before = analystState(svc.ctx).membershipIndex.status().runId;
      await seedRun(neo4j.driver, 'r-watch', [RING_CLUSTER], 3_000);
      const deadline = Date.now() + 20_000;
      while (!(index.status().state === 'ready' && index.status().runId === 'r-watch')) {
        if (Date.now() > deadline) throw new Error(`not loaded: ${JSON.stringify(index.status())}`);
        await sleep(50);
      }
      // No request reached either service since the seed: svc still holds the old run.
      expect(analystState(svc.ctx).membershipIndex.status().runId).toBe(before);
      expect(before).not.toBe('r-watch');
    } finally {
      watch.stop();
      await watched.stop();
    }
  });
});
