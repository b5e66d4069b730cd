/**
 * Membership, account profile, cluster list/detail/graph over HTTP against a real
 * Neo4j: happy paths, stable keyset paging, error codes, roles, and the
 * membership cache following the current-run pointer.
 */
import { request } from 'node:http';
import type { ProfiledPlan } from 'neo4j-driver';
import { MEMBERS, encodeCursor } from '../../src/clusters/cursor';
import { loadCypher, query } from '../../src/platform/cypher';
import { prune } from '../../src/linkage/publish';
import { Database, int, type ManagedTransaction } from '../../src/platform/neo4j';
import { startTestNeo4j, type TestNeo4j } from '../support/neo4j';
import { postJson, startService, type TestService } from '../support/service';
import {
  API_KEYS,
  BENIGN_CLUSTER,
  RING,
  RING_CLUSTER,
  auth,
  getJson,
  ingestWorld,
  seedRun,
  T0,
  type SeedCluster,
} from '../support/analyst-fixtures';

let neo4j: TestNeo4j;
let svc: TestService;

beforeAll(async () => {
  neo4j = await startTestNeo4j();
  svc = await startService(neo4j, {
    API_KEYS,
    CURRENT_RUN_CHECK_MS: '100',
    CLUSTER_GRAPH_MAX_ACCOUNTS: '4',
    LINKAGE_ALLOWLIST: 'payment:pm-corp',
  });
  await ingestWorld(svc.url);
});

afterAll(async () => {
  await svc?.stop();
  await neo4j?.stop();
});

const get = (path: string, role: 'analyst' | 'admin' | 'ingest' = 'analyst') =>
  getJson(`${svc.url}${path}`, auth(role));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** 20 small clusters with tied risks, so paging must break ties by id. */
const FILLER: SeedCluster[] = Array.from({ length: 20 }, (_, i) => ({
  id: `c-fill-${String(i).padStart(2, '0')}`,
  risk: [0.5, 0.3, 0.3, 0.1][i % 4] as number,
  flagged: false,
  members: [],
}));

describe('before any linkage run', () => {
  it('membership is null with runId null, and the cluster list is empty', async () => {
    expect(await get('/v1/accounts/ring:0/cluster')).toMatchObject({
      status: 200,
      body: { accountId: 'ring:0', runId: null, cluster: null },
    });
    expect((await get('/v1/clusters')).body).toEqual({
      runId: null,
      clusters: [],
      nextCursor: null,
    });
  });

  it('a cursor that is not one the endpoint issued is 400 already: checked before any read', async () => {
    const list = await get('/v1/clusters?cursor=garbage');
    expect(list).toMatchObject({
      status: 400,
      body: { error: { code: 'validation_failed', details: [{ path: 'cursor' }] } },
    });
    // not 404 for the cluster: the cursor is wrong whichever cluster it is for
    const detail = await get('/v1/clusters/c-nothing?memberCursor=garbage');
    expect(detail).toMatchObject({
      status: 400,
      body: { error: { code: 'validation_failed', details: [{ path: 'memberCursor' }] } },
    });
  });
});

describe('with a published run', () => {
  beforeAll(async () => {
    await seedRun(neo4j.driver, 'r-1', [RING_CLUSTER, BENIGN_CLUSTER, ...FILLER], 1_000);
    await sleep(150);
  });

  it('GET /v1/accounts/{id}/cluster answers from the current run', async () => {
    const res = await get('/v1/accounts/ring:3/cluster');
    expect(res).toMatchObject({
      status: 200,
      body: {
        accountId: 'ring:3',
        runId: 'r-1',
        cluster: {
          id: 'c-ring',
          risk: 0.93,
          flagged: true,
          size: 6,
          reasons: RING_CLUSTER.reasons,
        },
      },
    });
    expect((await get('/v1/accounts/solo:0/cluster')).body).toEqual({
      accountId: 'solo:0',
      runId: 'r-1',
      cluster: null,
    });
  });

  it('404 for an unknown account, 400 for a malformed id', async () => {
    const unknown = await get('/v1/accounts/nobody/cluster');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ error: { code: 'not_found' } });
    expect((await get('/v1/accounts/nobody')).status).toBe(404);
    const bad = await get('/v1/accounts/bad%20id!/cluster');
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
  });

  it('GET /v1/accounts/{id}: identifiers with counts and sharing, activity, cluster', async () => {
    const res = await get('/v1/accounts/ring:0');
    expect(res.status).toBe(200);
    const body = res.body as {
      account: Record<string, unknown>;
      identifiers: { kind: string; value: string; count: number; accounts: number }[];
      activity: { models: { model: string; count: number }[] };
      membership: Record<string, unknown>;
    };
    expect(body.account).toMatchObject({ id: 'ring:0', requests: 4 });
    expect(body.identifiers).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'payment', value: 'pm-ring', count: 1, accounts: 6 }),
        expect.objectContaining({ kind: 'ip', value: '203.0.113.10', accounts: 1 }),
        expect.objectContaining({ kind: 'email_domain', value: 'mail.example', accounts: 6 }),
        expect.objectContaining({ kind: 'prompt', value: '0123456789abcdef', count: 4 }),
      ]),
    );
    expect(body.activity.models).toEqual([
      expect.objectContaining({ model: 'model-new', count: 3 }),
      expect.objectContaining({ model: 'model-old', count: 1 }),
    ]);
    expect(body.activity).toMatchObject({ modelCount: 2, modelsCapped: false });
    expect(body.membership).toMatchObject({ runId: 'r-1', cluster: { id: 'c-ring' } });
  });

  it('"." and ".." are no account ids: refused at ingest, and as a path segment', async () => {
    const res = await postJson(
      `${svc.url}/v1/events`,
      {
        events: [
          { type: 'signup', accountId: '..', at: '2026-02-01T00:00:00Z' },
          { type: 'signup', accountId: '.', at: '2026-02-01T00:00:00Z' },
        ],
      },
      auth('ingest'),
    );
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      code: 'validation_failed',
      details: [
        {
          index: 0,
          path: 'accountId',
          message: expect.stringContaining('must not be "." or ".."'),
        },
        { index: 1, path: 'accountId' },
      ],
    });
    // fetch would resolve %2E%2E before sending; a raw request reaches the route.
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(svc.url);
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: '/v1/accounts/%2E%2E/cluster',
          headers: auth('analyst'),
        },
        (r) => {
          r.resume();
          resolve(r.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(400);
  });

  it('GET /v1/accounts/{id}: identifiers most recent first, ties by kind then value', async () => {
    // ring:1's request at T0 + 2h carries its ip and a prompt: both last seen then.
    const res = await get('/v1/accounts/ring:1');
    const identifiers = res.body.identifiers as { kind: string; value: string; lastSeen: number }[];
    const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
    const sorted = [...identifiers].sort(
      (a, b) => b.lastSeen - a.lastSeen || cmp(a.kind, b.kind) || cmp(a.value, b.value),
    );
    expect(identifiers).toEqual(sorted);
    const tied = identifiers.filter((x) => x.lastSeen === identifiers[1]?.lastSeen);
    expect(tied.map((x) => x.kind)).toEqual(['ip', 'prompt']);
  });

  it('GET /v1/accounts/{id}: models and capabilities capped at 500, the busiest, with full counts', async () => {
    // Events may name any model: one account naming 600 must not make a profile unbounded.
    await neo4j.driver.executeQuery(
      `CREATE (a:Account {id: 'many-models', requests: 600})
       WITH a UNWIND range(1, 600) AS i
       CREATE (a)-[:USED_MODEL {count: i, firstUse: 1, lastUse: 2}]->(:Model {name: 'm-' + toString(i)})
       CREATE (a)-[:REQUESTED {count: i}]->(:Capability {name: 'k-' + toString(i)})`,
    );
    try {
      const res = await get('/v1/accounts/many-models');
      expect(res.status).toBe(200);
      const activity = res.body.activity as {
        models: { model: string; count: number }[];
        capabilities: { capability: string; count: number }[];
      };
      expect(activity).toMatchObject({
        modelCount: 600,
        modelsCapped: true,
        capabilityCount: 600,
        capabilitiesCapped: true,
      });
      expect(activity.models).toHaveLength(500);
      expect(activity.models[0]).toMatchObject({ model: 'm-600', count: 600 });
      expect(activity.capabilities).toHaveLength(500);
      expect(activity.capabilities[499]).toMatchObject({ capability: 'k-101', count: 101 });
    } finally {
      await neo4j.driver.executeQuery(
        "MATCH (a:Account {id: 'many-models'})-[]->(x) DETACH DELETE a, x",
      );
    }
  });

  it('GET /v1/clusters lists in rank order (risk, then size, then id), and filters', async () => {
    const all = await get('/v1/clusters?limit=500');
    expect(all.status).toBe(200);
    const ids = (all.body.clusters as { id: string; risk: number }[]).map((c) => c.id);
    expect(ids.slice(0, 2)).toEqual(['c-ring', 'c-fill-00']);
    expect(ids).toHaveLength(22);
    const risks = (all.body.clusters as { risk: number }[]).map((c) => c.risk);
    expect([...risks].sort((a, b) => b - a)).toEqual(risks);
    const ranks = (all.body.clusters as { rank: number }[]).map((c) => c.rank);
    expect(ranks).toEqual(ranks.map((_, i) => i + 1));

    const flagged = await get('/v1/clusters?flagged=true');
    expect((flagged.body.clusters as { id: string }[]).map((c) => c.id)).toEqual(['c-ring']);
    const risky = await get('/v1/clusters?minRisk=0.4&flagged=false');
    expect((risky.body.clusters as { id: string }[]).every((c) => c.id.startsWith('c-fill'))).toBe(
      true,
    );
    expect(risky.body.clusters).toHaveLength(5);
    const big = await get('/v1/clusters?minSize=2');
    expect((big.body.clusters as { id: string }[]).map((c) => c.id)).toEqual([
      'c-ring',
      'c-office',
    ]);
  });

  it('cursor paging walks every cluster once, in order', async () => {
    const full = (await get('/v1/clusters?limit=500')).body.clusters as { id: string }[];
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await get(
        `/v1/clusters?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(res.status).toBe(200);
      seen.push(...(res.body.clusters as { id: string }[]).map((c) => c.id));
      cursor = res.body.nextCursor as string | null;
      pages++;
    } while (cursor && pages < 50);
    expect(seen).toEqual(full.map((c) => c.id));
    expect(pages).toBe(8);
  });

  it('400 for bad list parameters and foreign cursors', async () => {
    for (const q of [
      'flagged=maybe',
      'minRisk=2',
      'limit=0',
      'limit=abc',
      'cursor=%%%',
      'cursor=WzFd',
      // empty is no cursor a page gave: a client sending `cursor=${next ?? ''}` would loop
      'cursor=',
      // numbers are plain decimal digits: Number() would read these as 0, 16, 100, 1
      'minRisk=',
      'minSize=%20',
      'limit=0x10',
      'limit=1e2',
      'minRisk=0x1',
    ]) {
      const res = await get(`/v1/clusters?${q}`);
      expect([q, res.status, (res.body.error as { code: string })?.code]).toEqual([
        q,
        400,
        'validation_failed',
      ]);
    }
    const hex = await get('/v1/clusters?limit=0x10');
    expect(hex.body.error).toMatchObject({
      details: [{ path: 'limit', message: 'a whole number in decimal digits' }],
    });
    expect((await get('/v1/clusters/c-ring?memberLimit=1e2')).status).toBe(400);
    expect((await get('/v1/clusters/c-ring?memberCursor=')).status).toBe(400);
    expect((await get('/v1/verdicts?cursor=')).status).toBe(400);
    expect((await get('/v1/audit?cursor=', 'admin')).status).toBe(400);
    expect((await get('/v1/clusters?minRisk=.5&minSize=2&limit=10')).status).toBe(200);
  });

  it('400 for any query parameter on the routes that take none', async () => {
    for (const path of [
      '/v1/accounts/ring:0/cluster?runId=r-old',
      '/v1/accounts/ring:0?limit=5',
      '/v1/clusters/c-ring/graph?memberLimit=5',
    ]) {
      const res = await get(path);
      expect([path, res.status, (res.body.error as { code: string })?.code]).toEqual([
        path,
        400,
        'validation_failed',
      ]);
      expect(JSON.stringify(res.body.error)).toMatch(/runId|limit|memberLimit/);
    }
  });

  it('GET /v1/clusters/{id}: members paged, shared identifiers, signals, history', async () => {
    const first = await get('/v1/clusters/c-ring?memberLimit=4');
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      id: 'c-ring',
      runId: 'r-1',
      current: true,
      risk: 0.93,
      flagged: true,
      size: 6,
      rank: 1,
      sharedIdentifiers: RING_CLUSTER.sharedIdentifiers,
      signals: RING_CLUSTER.signals,
      reasons: RING_CLUSTER.reasons,
      history: { runs: [{ runId: 'r-1', size: 6, change: 'new' }], verdicts: [] },
    });
    const page1 = (first.body.members as { id: string }[]).map((m) => m.id);
    expect(page1).toEqual(RING.slice(0, 4));
    const next = await get(
      `/v1/clusters/c-ring?memberLimit=4&memberCursor=${first.body.nextMemberCursor as string}`,
    );
    expect((next.body.members as { id: string }[]).map((m) => m.id)).toEqual(RING.slice(4));
    expect(next.body.nextMemberCursor).toBeNull();
    expect((await get('/v1/clusters/c-nothing')).status).toBe(404);
    expect((await get('/v1/clusters/c-ring?memberLimit=0')).status).toBe(400);
    // a bad member cursor is named as the parameter it came in
    const badCursor = await get('/v1/clusters/c-ring?memberCursor=garbage');
    expect(badCursor.status).toBe(400);
    expect(badCursor.body.error).toMatchObject({
      code: 'validation_failed',
      details: [{ path: 'memberCursor' }],
    });
  });

  it('GET /v1/clusters/{id}/graph: members and the identifiers linking them, capped', async () => {
    const office = await get('/v1/clusters/c-office/graph');
    expect(office.status).toBe(200);
    expect(office.body.capped).toBe(false);
    const nodes = office.body.nodes as { id: string; type: string }[];
    expect(nodes.map((n) => n.id).sort()).toEqual([
      'account:ben:0',
      'account:ben:1',
      'ip:198.51.100.7',
      'payment:pm-corp',
    ]);
    expect(office.body.edges).toEqual(
      expect.arrayContaining([
        {
          source: 'account:ben:0',
          target: 'payment:pm-corp',
          count: 1,
          lastSeen: T0,
          aged: false,
        },
        {
          source: 'account:ben:1',
          target: 'ip:198.51.100.7',
          count: 2,
          lastSeen: T0 + 11 * 3_600_000,
          aged: false,
        },
      ]),
    );
    // Allow-listed values are drawn but marked, as a run takes them: from config, an entry
    // added over the API, a listed subnet or wider range covering its addresses, a listed prompt's near
    // duplicates (within LINKAGE_PROMPT_MAX_HAMMING, 3).
    const marks = async (cluster: string) =>
      Object.fromEntries(
        ((await get(`/v1/clusters/${cluster}/graph`)).body.nodes as Record<string, unknown>[])
          .filter((n) => n.type === 'identifier')
          .map((n) => [n.id, n.allowlisted]),
      );
    const listed = async (kind: string, value: string, check: () => Promise<void>) => {
      const added = await postJson(`${svc.url}/v1/allowlist`, { kind, value }, auth('admin'));
      expect(added.status).toBe(201);
      try {
        await check();
      } finally {
        const query = new URLSearchParams({ kind, value });
        const gone = await fetch(`${svc.url}/v1/allowlist?${query.toString()}`, {
          method: 'DELETE',
          headers: auth('admin'),
        });
        expect(gone.status).toBe(204);
      }
    };
    expect(await marks('c-office')).toEqual({
      'payment:pm-corp': true,
      'ip:198.51.100.7': false,
    });
    for (const [kind, value] of [
      ['ip', '198.51.100.7'],
      ['subnet', '198.51.100.0/24'],
      ['subnet', '198.51.96.0/20'], // a wider block holding that /24
    ] as const) {
      await listed(kind, value, async () =>
        expect(await marks('c-office')).toEqual({
          'payment:pm-corp': true,
          'ip:198.51.100.7': true,
        }),
      );
    }
    await listed('subnet', '198.51.104.0/22', async () => {
      // the next block: not the office's
      expect((await marks('c-office'))['ip:198.51.100.7']).toBe(false);
    });
    expect((await marks('c-ring'))['prompt:0123456789abcdef']).toBe(false);
    await listed('prompt', '0123456789abcde8', async () => {
      // 'ef' against 'e8': three bits apart
      expect((await marks('c-ring'))['prompt:0123456789abcdef']).toBe(true);
    });
    await listed('prompt', '0123456789abcd10', async () => {
      // 'ef' against '10': eight bits apart
      expect((await marks('c-ring'))['prompt:0123456789abcdef']).toBe(false);
    });
    // An e-mail domain in another spelling on either side (an older graph's or entry's
    // `mail.example.`) is the same value to a run, and so to the marks (review, 12-06).
    expect((await marks('c-ring'))['email_domain:mail.example']).toBe(false);
    await neo4j.driver.executeQuery(
      `CREATE (:AllowlistEntry {key: 'email_domain:Mail.Example.', kind: 'email_domain',
               value: 'Mail.Example.', source: 'api'})`,
    );
    expect((await marks('c-ring'))['email_domain:mail.example']).toBe(true);
    await neo4j.driver.executeQuery(
      "MATCH (e:AllowlistEntry {key: 'email_domain:Mail.Example.'}) DELETE e",
    );
    const respell = (from: string, to: string) =>
      neo4j.driver.executeQuery('MATCH (d:EmailDomain {name: $from}) SET d.name = $to', {
        from,
        to,
      });
    await respell('mail.example', 'mail.example.');
    try {
      await listed('email_domain', 'mail.example', async () =>
        expect((await marks('c-ring'))['email_domain:mail.example.']).toBe(true),
      );
    } finally {
      await respell('mail.example.', 'mail.example');
    }
    const ring = await get('/v1/clusters/c-ring/graph');
    expect(ring.body.capped).toBe(true); // 6 members, at most 4 shown
    expect(
      (ring.body.nodes as { type: string }[]).filter((n) => n.type === 'account'),
    ).toHaveLength(4);
    expect((await get('/v1/clusters/c-nothing/graph')).status).toBe(404);
  });

  it('the cluster graph and the account profile mark the links the run left out as aged', async () => {
    const office = await get('/v1/clusters/c-office/graph');
    const runId = office.body.runId as string;
    const ageOf = async () => {
      const edges = (await get('/v1/clusters/c-office/graph')).body.edges as {
        source: string;
        target: string;
        aged: boolean | null;
      }[];
      return Object.fromEntries(edges.map((e) => [`${e.source} ${e.target}`, e.aged]));
    };
    // As the run records them: IP links aged after one day, counted back from agedAsOf.
    // The office IP was last seen at T0 + 11 h; its card (not an aged kind) at T0.
    const lastIp = T0 + 11 * 3_600_000;
    const runAged = (asOf: number) =>
      neo4j.driver.executeQuery(
        'MATCH (r:LinkageRun {id: $runId}) SET r.params = $params, r.stats = $stats',
        {
          runId,
          params: JSON.stringify({ linkMaxAgeDays: { ip: 1 } }),
          stats: JSON.stringify({ extract: { agedAsOf: asOf } }),
        },
      );
    // The account profile marks its links by the run of its membership, the same run.
    const profileAged = async () => {
      const profile = (await get('/v1/accounts/ben:1')).body as {
        membership: { runId: string };
        identifiers: { kind: string; value: string; aged: boolean | null }[];
      };
      expect(profile.membership.runId).toBe(runId);
      return Object.fromEntries(profile.identifiers.map((x) => [`${x.kind}:${x.value}`, x.aged]));
    };
    expect(await profileAged()).toEqual({ 'ip:198.51.100.7': false, 'payment:pm-corp': false });
    try {
      await runAged(lastIp + 86_400_000 + 1);
      expect(await profileAged()).toEqual({ 'ip:198.51.100.7': true, 'payment:pm-corp': false });
      expect(await ageOf()).toEqual({
        'account:ben:0 payment:pm-corp': false,
        'account:ben:1 payment:pm-corp': false,
        'account:ben:0 ip:198.51.100.7': true,
        'account:ben:1 ip:198.51.100.7': true,
      });
      // A link last seen exactly the age before still counted (extract keeps it too).
      await runAged(lastIp + 86_400_000);
      expect(Object.values(await ageOf())).toEqual([false, false, false, false]);
      // Seen again after the run's newest activity: what the run read of it is gone, so
      // whether it aged is not known (null); the card's kind never ages, so it did not.
      await runAged(lastIp - 1);
      expect(await ageOf()).toEqual({
        'account:ben:0 payment:pm-corp': false,
        'account:ben:1 payment:pm-corp': false,
        'account:ben:0 ip:198.51.100.7': null,
        'account:ben:1 ip:198.51.100.7': null,
      });
      expect(await profileAged()).toEqual({ 'ip:198.51.100.7': null, 'payment:pm-corp': false });
    } finally {
      await neo4j.driver.executeQuery(
        "MATCH (r:LinkageRun {id: $runId}) SET r.params = '{}', r.stats = '{}'",
        { runId },
      );
    }
    // A run that recorded no ages (before links aged) marks none.
    expect(Object.values(await ageOf())).toEqual([false, false, false, false]);
  });

  it('401 without a key, 403 for the ingest role', async () => {
    for (const path of [
      '/v1/accounts/ring:0/cluster',
      '/v1/accounts/ring:0',
      '/v1/clusters',
      '/v1/clusters/c-ring',
      '/v1/clusters/c-ring/graph',
    ]) {
      const anon = await getJson(`${svc.url}${path}`);
      expect(anon).toMatchObject({ status: 401, body: { error: { code: 'unauthenticated' } } });
      const wrongKey = await getJson(`${svc.url}${path}`, { authorization: 'Bearer nope' });
      expect(wrongKey.status).toBe(401);
      const ingest = await get(path, 'ingest');
      expect(ingest).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
      expect((await get(path, 'admin')).status).toBe(200);
    }
  });
});

describe('a new run', () => {
  it('membership is cached per run and follows the pointer when it moves', async () => {
    expect((await get('/v1/accounts/ring:1/cluster')).body).toMatchObject({
      runId: 'r-1',
      cluster: { risk: 0.93 },
    });
    // Change the stored cluster behind the cache's back: the cached answer stands...
    await neo4j.driver.executeQuery("MATCH (c:Cluster {key: 'r-1/c-ring'}) SET c.risk = 0.01");
    await sleep(150);
    expect((await get('/v1/accounts/ring:1/cluster')).body).toMatchObject({
      runId: 'r-1',
      cluster: { risk: 0.93 },
    });
    // ...until a new run is published.
    await seedRun(
      neo4j.driver,
      'r-2',
      [{ ...RING_CLUSTER, risk: 0.97, change: 'grew', members: [...RING, 'solo:0'] }],
      2_000,
      [{ clusterId: 'c-office', change: 'merged', into: ['c-ring'] }],
    );
    await sleep(150);
    expect((await get('/v1/accounts/ring:1/cluster')).body).toMatchObject({
      runId: 'r-2',
      cluster: { id: 'c-ring', risk: 0.97, size: 7 },
    });
    expect((await get('/v1/accounts/solo:0/cluster')).body).toMatchObject({
      runId: 'r-2',
      cluster: { id: 'c-ring' },
    });
    expect((await get('/v1/accounts/ben:0/cluster')).body).toMatchObject({
      runId: 'r-2',
      cluster: null,
    });
  });

  it('history spans runs; a cluster gone from the current run shows its last version', async () => {
    const ring = await get('/v1/clusters/c-ring');
    expect((ring.body.history as { runs: { runId: string; change: string }[] }).runs).toEqual([
      expect.objectContaining({ runId: 'r-1', change: 'new' }),
      expect.objectContaining({ runId: 'r-2', change: 'grew', size: 7 }),
    ]);
    // A run that failed after writing some clusters (they stay until the next run cleans
    // them up) is not part of any cluster's history.
    await neo4j.driver.executeQuery(
      `CREATE (:LinkageRun {id: 'r-failed', status: 'failed', startedAt: 2500, error: 'interrupted'})
       CREATE (:Cluster {key: 'r-failed/c-ring', id: 'c-ring', runId: 'r-failed', size: 99, risk: 0.5, flagged: false, change: 'stable'})
       CREATE (:Cluster {key: 'r-failed/c-office', id: 'c-office', runId: 'r-failed', size: 99, risk: 0.5, flagged: false, change: 'stable'})`,
    );
    expect((await get('/v1/clusters/c-office')).body).toMatchObject({
      id: 'c-office',
      runId: 'r-1',
      current: false,
    });
    const after = await get('/v1/clusters/c-ring');
    expect((after.body.history as { runs: { runId: string }[] }).runs.map((r) => r.runId)).toEqual([
      'r-1',
      'r-2',
    ]);
    await neo4j.driver.executeQuery(
      "MATCH (n) WHERE (n:LinkageRun AND n.id = 'r-failed') OR (n:Cluster AND n.runId = 'r-failed') DETACH DELETE n",
    );
    const office = await get('/v1/clusters/c-office');
    expect(office.body).toMatchObject({ id: 'c-office', runId: 'r-1', current: false });
    // where it went, from the run that retired it
    expect(office.body.retired).toEqual({
      runId: 'r-2',
      at: 3_000,
      change: 'merged',
      into: ['c-ring'],
    });
    expect((await get('/v1/clusters/c-ring')).body.retired).toBeNull();
    // The run that replaced it, by previousRunId as the swap records it, even when
    // another succeeded run started after it (clocks of two hosts apart).
    await neo4j.driver.executeQuery(
      `MATCH (r:LinkageRun {id: 'r-2'}) SET r.previousRunId = 'r-1'
       CREATE (:LinkageRun {id: 'r-skewed', status: 'succeeded', startedAt: 1500, finishedAt: 1600,
         previousRunId: 'r-0', dissolved: '[]'})`,
    );
    expect((await get('/v1/clusters/c-office')).body.retired).toMatchObject({ runId: 'r-2' });
    await neo4j.driver.executeQuery("MATCH (r:LinkageRun {id: 'r-skewed'}) DELETE r");
    expect((await get('/v1/clusters/c-office/graph')).status).toBe(404);
  });

  it('a cursor from the previous run is refused with 409', async () => {
    // Issue a cursor in r-2, then publish r-3.
    await seedRun(neo4j.driver, 'r-3', [RING_CLUSTER, BENIGN_CLUSTER, ...FILLER], 3_000);
    await sleep(150);
    const page = await get('/v1/clusters?limit=2');
    await seedRun(neo4j.driver, 'r-4', [RING_CLUSTER, BENIGN_CLUSTER, ...FILLER], 4_000);
    await sleep(150);
    const stale = await get(`/v1/clusters?limit=2&cursor=${page.body.nextCursor as string}`);
    expect(stale).toMatchObject({ status: 409, body: { error: { code: 'conflict' } } });
  });

  it("a member cursor from the previous run's version of a cluster is refused with 409", async () => {
    const first = await get('/v1/clusters/c-ring?memberLimit=2');
    expect(first.body.runId).toBe('r-4');
    const cursor = first.body.nextMemberCursor as string;
    expect(typeof cursor).toBe('string');
    // the same run: the next page
    expect((await get(`/v1/clusters/c-ring?memberLimit=2&memberCursor=${cursor}`)).status).toBe(
      200,
    );
    await seedRun(neo4j.driver, 'r-5', [RING_CLUSTER, BENIGN_CLUSTER, ...FILLER], 5_000);
    await sleep(150);
    const stale = await get(`/v1/clusters/c-ring?memberLimit=2&memberCursor=${cursor}`);
    expect(stale).toMatchObject({
      status: 409,
      body: { error: { code: 'conflict', details: { cursorRunId: 'r-4', clusterRunId: 'r-5' } } },
    });
    // a tampered member cursor is 400 for an unknown cluster as for a known one
    const tampered = await get('/v1/clusters/c-nothing?memberCursor=WyJyLTUiXQ');
    expect(tampered.status).toBe(400);
  });

  it('ties in risk are listed and paged in rank order: the larger cluster first', async () => {
    // Clusters whose signals are all zero share one risk exactly (sigmoid of the bias).
    const tied = (id: string, members: string[]): SeedCluster => ({
      id,
      risk: 0.25,
      flagged: false,
      members,
    });
    await seedRun(
      neo4j.driver,
      'r-tied',
      [tied('c-a', ['solo:0']), tied('c-b', ['ben:0', 'ben:1']), tied('c-c', []), RING_CLUSTER],
      5_500,
    );
    await sleep(150);
    const all = await get('/v1/clusters');
    expect(all.body.runId).toBe('r-tied');
    const listed = (all.body.clusters as { id: string; rank: number }[]).map((c) => [c.id, c.rank]);
    expect(listed).toEqual([
      ['c-ring', 1],
      ['c-b', 2],
      ['c-a', 3],
      ['c-c', 4],
    ]);
    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await get(`/v1/clusters?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      paged.push(...(res.body.clusters as { id: string }[]).map((c) => c.id));
      cursor = res.body.nextCursor as string | null;
    } while (cursor && paged.length < 10);
    expect(paged).toEqual(['c-ring', 'c-b', 'c-a', 'c-c']);
    // filters keep the order: minRisk still cuts by risk
    const risky = await get('/v1/clusters?minRisk=0.25&minSize=1');
    expect((risky.body.clusters as { id: string }[]).map((c) => c.id)).toEqual([
      'c-ring',
      'c-b',
      'c-a',
    ]);
  });

  it("a member cursor of another run on a cluster no longer current names that cluster's run, not the current one", async () => {
    // r-tied has no c-office: its last run is r-5.
    const office = await get('/v1/clusters/c-office?memberLimit=1');
    expect(office.body).toMatchObject({ runId: 'r-5', current: false });
    // its next page, in its own run, pages on
    const next = await get(
      `/v1/clusters/c-office?memberLimit=1&memberCursor=${office.body.nextMemberCursor as string}`,
    );
    expect(next).toMatchObject({ status: 200, body: { members: [{ id: 'ben:1' }] } });
    const fromR1 = encodeCursor(MEMBERS, ['r-1', 'c-office', 'ben:0']);
    const stale = await get(`/v1/clusters/c-office?memberCursor=${fromR1}`);
    expect(stale.status).toBe(409);
    expect((stale.body.error as { details: unknown }).details).toEqual({
      cursorRunId: 'r-1',
      clusterRunId: 'r-5',
    });
  });

  it('a replica given a cursor of a newer run than it last saw reads the pointer again and pages on', async () => {
    // Behind a load balancer: page 1 from a replica already on the new run, page 2 from
    // one that checks the pointer only hourly and still holds the run before.
    const lagging = await startService(neo4j, { API_KEYS, CURRENT_RUN_CHECK_MS: '3600000' });
    const getLagging = (path: string) => getJson(`${lagging.url}${path}`, auth('analyst'));
    try {
      expect((await getLagging('/v1/clusters?limit=2')).body.runId).toBe('r-tied');
      await seedRun(neo4j.driver, 'r-6', [RING_CLUSTER, BENIGN_CLUSTER, ...FILLER], 6_000);
      await sleep(150);
      const page = await get('/v1/clusters?limit=2');
      expect(page.body.runId).toBe('r-6');
      const next = await getLagging(
        `/v1/clusters?limit=2&cursor=${page.body.nextCursor as string}`,
      );
      expect(next).toMatchObject({ status: 200, body: { runId: 'r-6' } });
      const full = (await get('/v1/clusters?limit=4')).body.clusters as { id: string }[];
      expect((next.body.clusters as { id: string }[]).map((c) => c.id)).toEqual(
        full.slice(2).map((c) => c.id),
      );

      await seedRun(neo4j.driver, 'r-7', [RING_CLUSTER, BENIGN_CLUSTER, ...FILLER], 7_000);
      await sleep(150);
      const members = await get('/v1/clusters/c-ring?memberLimit=2');
      expect(members.body.runId).toBe('r-7');
      const more = await getLagging(
        `/v1/clusters/c-ring?memberLimit=2&memberCursor=${members.body.nextMemberCursor as string}`,
      );
      expect(more).toMatchObject({ status: 200, body: { runId: 'r-7', current: true } });
      expect((more.body.members as { id: string }[]).map((m) => m.id)).toEqual(RING.slice(2, 4));
    } finally {
      await lagging.stop();
    }
  });

  it('a replica that has not seen the run a cluster is new in reads the pointer again: current, not "not current and never retired"', async () => {
    // Review, 12-04: it answered the new run's version with current: false and retired:
    // null, which the schema allows only while current.
    const lagging = await startService(neo4j, { API_KEYS, CURRENT_RUN_CHECK_MS: '3600000' });
    const getLagging = (path: string) => getJson(`${lagging.url}${path}`, auth('analyst'));
    try {
      const seen = (await getLagging('/v1/clusters?limit=1')).body.runId;
      const fresh = { id: 'c-fresh', risk: 0.3, flagged: false, members: [] };
      await seedRun(neo4j.driver, 'r-8', [RING_CLUSTER, BENIGN_CLUSTER, ...FILLER, fresh], 8_000);
      expect(seen).not.toBe('r-8');
      const detail = await getLagging('/v1/clusters/c-fresh');
      expect(detail).toMatchObject({
        status: 200,
        body: { id: 'c-fresh', runId: 'r-8', current: true, retired: null },
      });
      // and the replica has moved on with it
      expect((await getLagging('/v1/clusters?limit=1')).body.runId).toBe('r-8');
    } finally {
      await lagging.stop();
    }
  });

  it('a replica not yet on a newer run lists no history past the version it shows', async () => {
    // Review, 12-05: the detail showed the run it held as current, and its history ended
    // with the newer run, read from the database.
    const lagging = await startService(neo4j, { API_KEYS, CURRENT_RUN_CHECK_MS: '3600000' });
    const getLagging = (path: string) => getJson(`${lagging.url}${path}`, auth('analyst'));
    try {
      const held = (await getLagging('/v1/clusters?limit=1')).body.runId as string;
      await seedRun(neo4j.driver, 'r-9', [RING_CLUSTER, BENIGN_CLUSTER, ...FILLER], 9_000);
      const lastRun = (body: Record<string, unknown>) => {
        const runs = (body.history as { runs: { runId: string }[] }).runs;
        return runs[runs.length - 1]?.runId;
      };
      const behind = await getLagging('/v1/clusters/c-ring');
      expect(behind.body).toMatchObject({ runId: held, current: true });
      expect(lastRun(behind.body)).toBe(held);
      await sleep(150);
      const fresh = await get('/v1/clusters/c-ring');
      expect(fresh.body).toMatchObject({ runId: 'r-9', current: true });
      expect(lastRun(fresh.body)).toBe('r-9');
      const count = (body: Record<string, unknown>) =>
        (body.history as { runs: unknown[] }).runs.length;
      expect(count(fresh.body)).toBe(count(behind.body) + 1);
      // Nor verdicts recorded on the newer run (review, 12-05: they were listed).
      const verdict = await postJson(
        `${svc.url}/v1/clusters/c-ring/verdict`,
        { verdict: 'confirmed', note: 'seen on r-9' },
        auth('analyst'),
      );
      expect(verdict).toMatchObject({ status: 201, body: { verdict: { runId: 'r-9' } } });
      const notes = (body: Record<string, unknown>) =>
        (body.history as { verdicts: { note: string; runId: string }[] }).verdicts.map(
          (v) => v.note,
        );
      expect(notes((await getLagging('/v1/clusters/c-ring')).body)).not.toContain('seen on r-9');
      expect(notes((await get('/v1/clusters/c-ring')).body)).toContain('seen on r-9');
    } finally {
      await lagging.stop();
    }
  });

  it('a member cursor of another cluster is refused with 400, not paged from its account', async () => {
    const ring = await get('/v1/clusters/c-ring?memberLimit=2');
    const cursor = ring.body.nextMemberCursor as string;
    expect(typeof cursor).toBe('string');
    const other = await get(`/v1/clusters/c-office?memberCursor=${cursor}`);
    expect(other).toMatchObject({
      status: 400,
      body: { error: { code: 'validation_failed', details: [{ path: 'memberCursor' }] } },
    });
  });

  it("versions and runs are in swap order (finishedAt, the database's clock), not by startedAt", async () => {
    // r-sb's replica's clock lagged: it started "before" r-sa yet swapped after it.
    const skew = { id: 'c-skew', risk: 0.5, flagged: false };
    await seedRun(neo4j.driver, 'r-sa', [{ ...skew, members: RING.slice(0, 3) }], 20_000);
    await seedRun(
      neo4j.driver,
      'r-sb',
      [{ ...skew, members: RING.slice(0, 6), change: 'grew' }],
      19_000,
    );
    await seedRun(neo4j.driver, 'r-sc', [RING_CLUSTER], 23_000, [
      { clusterId: 'c-skew', change: 'dissolved', into: [] },
    ]);
    await neo4j.driver.executeQuery(
      `MATCH (b:LinkageRun {id: 'r-sb'}), (c:LinkageRun {id: 'r-sc'})
       SET b.finishedAt = 22000.0, b.previousRunId = 'r-sa', c.previousRunId = 'r-sb'`,
    );
    await sleep(150);
    const res = await get('/v1/clusters/c-skew');
    expect(res.body).toMatchObject({
      runId: 'r-sb',
      size: 6,
      current: false,
      retired: { runId: 'r-sc', change: 'dissolved' },
    });
    const history = (res.body.history as { runs: { runId: string }[] }).runs;
    expect(history.map((r) => r.runId)).toEqual(['r-sa', 'r-sb']);
    const runs = (await get('/v1/linkage/runs?limit=3')).body.runs as { id: string }[];
    expect(runs.map((r) => r.id)).toEqual(['r-sc', 'r-sb', 'r-sa']);
  });

  it('GET /v1/accounts/{id}: sharing is counted for the kept identifiers only, from stored degrees', async () => {
    // 1,000 prompts of one account, each also sent by 50 others: the count of every
    // holder of every prompt, made before the cut to 500, cost ~identifiers × holders.
    await neo4j.driver.executeQuery(
      `CREATE (a:Account {id: 'prof:0'})
       WITH a UNWIND range(1, 1000) AS i
       CREATE (a)-[:SENT {count: 1, firstSeen: i, lastSeen: i}]->(p:PromptFingerprint {hash: 'prof-' + i})
       WITH p, i UNWIND range(1, 50) AS j
       MERGE (o:Account {id: 'prof:o' + j})
       CREATE (o)-[:SENT {count: 1, firstSeen: i, lastSeen: i}]->(p)`,
    );
    const res = await get('/v1/accounts/prof:0');
    expect(res.body).toMatchObject({ identifierCount: 1000, identifiersCapped: true });
    const identifiers = res.body.identifiers as { value: string; accounts: number }[];
    expect(identifiers.length).toBe(500);
    expect(identifiers[0]).toMatchObject({ value: 'prof-1000', accounts: 51 });
    expect(identifiers[499]).toMatchObject({ value: 'prof-501', accounts: 51 });
    const profiled = await neo4j.driver.executeQuery(
      `PROFILE ${query(loadCypher(), 'accounts/read-account')}`,
      {
        accountId: 'prof:0',
        maxIdentifiers: int(500),
        runId: (res.body.membership as { runId: string | null }).runId,
      },
    );
    const hits = (p: ProfiledPlan): number =>
      p.dbHits + p.children.reduce((sum, c) => sum + hits(c), 0);
    // ~24,000 now; ~220,000 when each kept or dropped prompt's holders were walked.
    expect(hits(profiled.summary.profile as ProfiledPlan)).toBeLessThan(60_000);
  });
  it('a page of the cluster list walks the (runId, rank) index, not every cluster of the run (review, 12-05)', async () => {
    // `$afterRank IS NULL OR …` and an order by rank alone made Neo4j read and sort the
    // whole run's clusters for each page: 9,205 db hits for 51 of 3,000.
    await neo4j.driver.executeQuery(
      `UNWIND range(1, 3000) AS i
       CREATE (:Cluster {key: 'r-plan/p' + i, id: 'plan-' + i, runId: 'r-plan',
         risk: 1.0 - i / 10000.0, flagged: false, size: 3, rank: i})`,
    );
    const hits = (p: ProfiledPlan): number =>
      p.dbHits + p.children.reduce((sum, c) => sum + hits(c), 0);
    for (const afterRank of [null, int(2000)]) {
      const profiled = await neo4j.driver.executeQuery(
        `PROFILE ${query(loadCypher(), 'clusters/list-clusters')}`,
        { runId: 'r-plan', minRisk: 0, minSize: 0, flagged: null, afterRank, limit: int(51) },
      );
      expect(profiled.records.map((r) => (r.get('cluster') as { id: string }).id)).toEqual(
        Array.from({ length: 51 }, (_, i) => `plan-${(afterRank ? 2001 : 1) + i}`),
      );
      expect(hits(profiled.summary.profile as ProfiledPlan)).toBeLessThan(1_000);
    }
    await neo4j.driver.executeQuery("MATCH (c:Cluster {runId: 'r-plan'}) DELETE c");
  });

  it("a cluster's graph groups only identifiers someone else holds too, not every link of its members", async () => {
    // Review, 12-05: every link of up to 200 members was grouped before `size(links) >= 2`
    // dropped the unshared ones: a ring of bots with thousands of one-off prompts each
    // cost Neo4j memory per link. Two members, 5,000 one-off prompts each, one device shared.
    await neo4j.driver.executeQuery(
      `CREATE (c:Cluster {key: 'r-g/c-g', id: 'c-g', runId: 'r-g', size: 2})
       CREATE (d:DeviceFingerprint {fingerprint: 'dev-g'})
       WITH c, d UNWIND range(0, 1) AS m
       CREATE (a:Account {id: 'g:' + m})-[:MEMBER_OF]->(c)
       CREATE (a)-[:USED_DEVICE {count: 1}]->(d)
       WITH a, m UNWIND range(1, 5000) AS i
       CREATE (a)-[:SENT {count: 1}]->(:PromptFingerprint {hash: 'g-' + m + '-' + i})`,
    );
    const profiled = await neo4j.driver.executeQuery(
      `PROFILE ${query(loadCypher(), 'clusters/read-cluster-graph')}`,
      {
        runId: 'r-g',
        clusterId: 'c-g',
        maxAccounts: int(200),
        maxIdentifiers: int(100),
        allowlistKeys: [],
      },
    );
    const identifiers = profiled.records[0]?.get('identifiers') as { value: string }[];
    expect(identifiers.map((x) => x.value)).toEqual(['dev-g']);
    // rows into the grouping: 2 now, 10,002 (every link) before
    const grouped = (p: ProfiledPlan): number[] => [
      ...(/Aggregation/.test(p.operatorType) ? [p.children.reduce((n, c) => n + c.rows, 0)] : []),
      ...p.children.flatMap(grouped),
    ];
    expect(grouped(profiled.summary.profile as ProfiledPlan)).toEqual([2]);
  });
});

describe('a cluster with a long past', () => {
  it('its detail shows the latest 100 runs and verdicts and counts the rest; GET /v1/verdicts?clusterId= lists every verdict', async () => {
    // Review, 12-04: every run that had a cluster, and every verdict on it, went into
    // each detail answer (10,000 verdicts of 4,000 characters: ~120 MB per read).
    const long: SeedCluster = { id: 'c-long', risk: 0.4, flagged: false, members: [] };
    const base = Date.now() + 10_000_000; // after every run planted above
    for (let i = 1; i <= 102; i++)
      await seedRun(neo4j.driver, `r-long-${i}`, [long], base + i * 10);
    await neo4j.driver.executeQuery(
      `UNWIND range(1, 103) AS i
       CREATE (:Verdict {id: 'v-long-' + right('00' + i, 3), clusterId: 'c-long',
         runId: 'r-long-102', verdict: 'confirmed', note: 'seen', by: 'analyst', at: 5000 + i})
       WITH count(*) AS done
       CREATE (:Verdict {id: 'v-other', clusterId: 'c-other', runId: 'r-long-102',
         verdict: 'benign', note: 'other', by: 'analyst', at: 5050})`,
    );
    await sleep(150);
    const res = await get('/v1/clusters/c-long');
    expect(res.status).toBe(200);
    const history = res.body.history as {
      runs: { runId: string }[];
      earlierRuns: number;
      verdicts: { id: string }[];
      earlierVerdicts: number;
    };
    expect(history.runs.map((r) => r.runId)).toEqual(
      Array.from({ length: 100 }, (_, i) => `r-long-${i + 3}`),
    );
    expect(history.earlierRuns).toBe(2);
    expect(history.verdicts.map((v) => v.id)).toEqual(
      Array.from({ length: 100 }, (_, i) => `v-long-${String(i + 4).padStart(3, '0')}`),
    );
    expect(history.earlierVerdicts).toBe(3);

    const listed: { id: string; clusterId: string }[] = [];
    let cursor: string | null = null;
    do {
      const page = await get(
        `/v1/verdicts?clusterId=c-long&limit=50${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.status).toBe(200);
      listed.push(...(page.body.verdicts as { id: string; clusterId: string }[]));
      cursor = page.body.nextCursor as string | null;
    } while (cursor);
    expect(listed.map((v) => v.id)).toEqual(
      Array.from({ length: 103 }, (_, i) => `v-long-${String(i + 1).padStart(3, '0')}`),
    );
    const all = (await get('/v1/verdicts?limit=1000')).body.verdicts as { id: string }[];
    expect(all.map((v) => v.id)).toContain('v-other');
    expect((await get('/v1/verdicts?clusterId=')).status).toBe(400);
    // One cluster's page starts from the Verdict(clusterId) index, not every verdict.
    const profiled = await neo4j.driver.executeQuery(
      `PROFILE ${query(loadCypher(), 'verdicts/list-verdicts-of-cluster')}`,
      {
        clusterId: 'c-other',
        since: int(0),
        verdict: null,
        afterAt: null,
        afterId: null,
        limit: int(10),
      },
    );
    const operators = (p: ProfiledPlan): string[] => [
      `${p.operatorType} ${String(p.arguments.Details ?? '')}`,
      ...p.children.flatMap(operators),
    ];
    expect(operators(profiled.summary.profile as ProfiledPlan)).toContainEqual(
      expect.stringMatching(/^NodeIndexSeek.*clusterId/),
    );
    expect(profiled.records).toHaveLength(1);
  });
});

describe("a retired cluster's members while its run is pruned", () => {
  it('a page read while the memberships go says membersPruned and lists none, not a short page (review, 12-05)', async () => {
    const gone: SeedCluster = { id: 'c-gone', risk: 0.5, flagged: true, members: RING };
    const base = Date.now() + 20_000_000; // after every run planted above
    await seedRun(neo4j.driver, 'r-gone-a', [gone], base);
    const retired = [{ clusterId: 'c-gone', change: 'dissolved' as const, into: [] }];
    await seedRun(neo4j.driver, 'r-gone-b', [BENIGN_CLUSTER], base + 10_000, retired);
    await seedRun(neo4j.driver, 'r-gone-c', [BENIGN_CLUSTER], base + 20_000);
    await sleep(150);
    const first = await get('/v1/clusters/c-gone?memberLimit=1');
    expect(first.body).toMatchObject({ runId: 'r-gone-a', current: false, membersPruned: false });
    expect(first.body.members).toHaveLength(1);
    const cursor = first.body.nextMemberCursor as string;

    // The page is read between prune's first and second delete of r-gone-a's memberships.
    const left = async () =>
      Number(
        (
          await neo4j.driver.executeQuery(
            "MATCH (:Cluster {key: 'r-gone-a/c-gone'})<-[m:MEMBER_OF]-() RETURN count(m) AS n",
          )
        ).records[0]!.get('n'),
      );
    let during: Awaited<ReturnType<typeof get>> | undefined;
    class ReadsMidway extends Database {
      override async write<T>(work: (tx: ManagedTransaction) => Promise<T>): Promise<T> {
        const done = await super.write(work);
        if (!during && (await left()) === RING.length - 1) {
          during = await get(`/v1/clusters/c-gone?memberLimit=1&memberCursor=${cursor}`);
        }
        return done;
      }
    }
    await prune(new ReadsMidway(neo4j.driver), loadCypher(), { keepRuns: 1, batchSize: 1 });
    expect(during).toMatchObject({
      status: 200,
      body: { runId: 'r-gone-a', membersPruned: true, members: [], nextMemberCursor: null },
    });
    expect(await left()).toBe(0);
    const after = await get('/v1/clusters/c-gone');
    expect(after.body).toMatchObject({ size: RING.length, membersPruned: true, members: [] });
    // a version whose run keeps its memberships says so
    expect((await get('/v1/clusters/c-office')).body).toMatchObject({ membersPruned: false });
  });
});
