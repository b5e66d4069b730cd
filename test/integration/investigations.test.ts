/**
 * Saved investigations over HTTP against a real Neo4j: the catalog, each shipped
 * investigation on a small ingested world, bad and missing parameters, the row
 * cap, the audit trail; and EXPLAIN on every .cypher file in cypher/ (all features).
 */
import neo4jDriver from 'neo4j-driver';
import {
  exampleParams,
  loadInvestigations,
  usedParameters,
} from '../../src/investigations/catalog';
import { loadCypher } from '../../src/platform/cypher';
import { startTestNeo4j, type TestNeo4j } from '../support/neo4j';
import { postJson, startService, type TestService } from '../support/service';
import {
  API_KEYS,
  RING,
  RING_CLUSTER,
  T0,
  auth,
  getJson,
  ingestWorld,
  seedRun,
} from '../support/analyst-fixtures';

let neo4j: TestNeo4j;
let svc: TestService;
let capped: TestService;
const V6_IP = '2001:db8::1';
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

beforeAll(async () => {
  neo4j = await startTestNeo4j();
  svc = await startService(neo4j, { API_KEYS, CURRENT_RUN_CHECK_MS: '0' });
  capped = await startService(neo4j, { API_KEYS, QUERY_MAX_ROWS: '2', LOG_LEVEL: 'warn' });
  await ingestWorld(svc.url);
  // One IPv6 client, to look up by every spelling of its address.
  const v6 = await postJson(
    `${svc.url}/v1/events`,
    { events: [{ type: 'request', accountId: 'v6:0', at: '2026-02-05T00:00:00Z', ip: V6_IP }] },
    auth('ingest'),
  );
  expect(v6.status).toBe(200);
  await seedRun(neo4j.driver, 'r-1', [RING_CLUSTER]);
});

afterAll(async () => {
  await capped?.stop();
  await svc?.stop();
  await neo4j?.stop();
});

type Rows = Record<string, unknown>[];
const run = (name: string, body: unknown, role: 'analyst' | 'ingest' | 'admin' = 'analyst') =>
  postJson(`${svc.url}/v1/investigations/${name}`, body, auth(role));
const rowsOf = (res: { body: Record<string, unknown> }) => res.body.rows as Rows;

describe('EXPLAIN every .cypher file', () => {
  it('plans every query of every feature against the real database', async () => {
    const cypher = loadCypher();
    const investigations = loadInvestigations(cypher);
    const failures: string[] = [];
    let explained = 0;
    for (const [key, text] of cypher) {
      const inv = investigations.get(key.replace(/^investigations\//, ''));
      const params =
        key.startsWith('investigations/') && inv ? exampleParams(inv) : dummyParams(text);
      try {
        const res = await neo4j.driver.executeQuery(`EXPLAIN ${text}`, params);
        expect(res.summary.plan).toBeTruthy();
        explained++;
      } catch (err) {
        failures.push(`${key}: ${(err as Error).message}`);
      }
    }
    expect(failures).toEqual([]);
    expect(explained).toBe(cypher.size);
    expect(explained).toBeGreaterThan(50);
  });
});

/** Dummy parameters of a plausible type for queries without a typed header. */
function dummyParams(text: string): Record<string, unknown> {
  const lists = new Set([...text.matchAll(/UNWIND\s+\$(\w+)/g)].map((m) => m[1]));
  const ints = new Set([...text.matchAll(/(?:LIMIT|SKIP)\s+\$(\w+)/g)].map((m) => m[1]));
  return Object.fromEntries(
    [...usedParameters(text)].map((name) => [
      name,
      lists.has(name) ? [] : ints.has(name) ? neo4jDriver.int(1) : null,
    ]),
  );
}

describe('GET /v1/investigations', () => {
  it('lists every investigation with its description and typed parameters', async () => {
    const res = await getJson(`${svc.url}/v1/investigations`, auth('analyst'));
    expect(res.status).toBe(200);
    const list = res.body.investigations as {
      name: string;
      description: string;
      params: unknown[];
      checks: unknown[];
    }[];
    expect(list.map((i) => i.name)).toEqual([
      'accounts-sharing-payment-method',
      'cluster-strongest-identifiers',
      'ip-neighbourhood',
      'model-migration',
      'near-duplicate-prompts',
      'shortest-identifier-chain',
      'signup-bursts',
    ]);
    expect(list.find((i) => i.name === 'signup-bursts')?.params).toEqual([
      { name: 'from', type: 'datetime', required: true },
      { name: 'to', type: 'datetime', required: true },
      { name: 'bucketMinutes', type: 'int', required: false, default: 60, min: 1, max: 10080 },
      { name: 'minSignups', type: 'int', required: false, default: 5, min: 1 },
      { name: 'limit', type: 'int', required: false, default: 100, min: 1, max: 10000 },
    ]);
    // the rules between two parameters, which a client met only as a 400 (review, 12-07)
    expect(list.find((i) => i.name === 'signup-bursts')?.checks).toEqual([
      { a: 'from', op: '<', b: 'to' },
    ]);
    expect(list.find((i) => i.name === 'shortest-identifier-chain')?.checks).toEqual([
      { a: 'fromAccountId', op: '!=', b: 'toAccountId' },
    ]);
    expect(list.find((i) => i.name === 'ip-neighbourhood')?.checks).toEqual([]);
    for (const i of list) expect(i.description.length).toBeGreaterThan(10);
  });
});

describe('POST /v1/investigations/{name}', () => {
  it('accounts-sharing-payment-method', async () => {
    const res = await run('accounts-sharing-payment-method', { accountId: 'ring:0' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: 'accounts-sharing-payment-method', truncated: false });
    expect(rowsOf(res).map((r) => r.accountId)).toEqual(RING.slice(1));
    expect(rowsOf(res)[0]).toMatchObject({ paymentMethods: ['pm-ring'], payments: 1 });
  });

  it('ip-neighbourhood by address and by subnet', async () => {
    const byIp = await run('ip-neighbourhood', { address: '203.0.113.12' });
    expect(rowsOf(byIp)).toHaveLength(6);
    expect(rowsOf(byIp)[0]).toMatchObject({
      accountId: 'ring:2',
      onAddress: true,
      subnet: '203.0.113.0/24',
    });
    const bySubnet = await run('ip-neighbourhood', { address: '203.0.113.0/24', limit: 3 });
    expect(rowsOf(bySubnet)).toHaveLength(3);
    expect(rowsOf(await run('ip-neighbourhood', { address: '10.0.0.1' }))).toEqual([]);
  });

  it('ip-neighbourhood finds the subnet of an address never seen', async () => {
    const res = await run('ip-neighbourhood', { address: '203.0.113.99' });
    expect(res.status).toBe(200);
    expect(rowsOf(res).map((r) => r.accountId)).toEqual(RING);
    for (const row of rowsOf(res))
      expect(row).toMatchObject({ onAddress: false, subnet: '203.0.113.0/24' });
    // Same answer as asking for the subnet itself.
    const bySubnet = await run('ip-neighbourhood', { address: '203.0.113.0/24' });
    expect(rowsOf(bySubnet)).toEqual(rowsOf(res));
  });

  it('ip-neighbourhood reads an address in any spelling, as ingest stores it', async () => {
    for (const address of ['2001:DB8::1', '2001:db8:0:0::1', '2001:0db8::0001', V6_IP]) {
      const res = await run('ip-neighbourhood', { address });
      expect([address, res.status, rowsOf(res)]).toEqual([
        address,
        200,
        [expect.objectContaining({ accountId: 'v6:0', onAddress: true, addresses: [V6_IP] })],
      ]);
      // The canonical form is what the answer and the audit trail show.
      expect(res.body.params).toEqual({ address: V6_IP, limit: 200 });
    }
    const neighbour = await run('ip-neighbourhood', { address: '2001:DB8:0:FFFF::5' });
    expect(rowsOf(neighbour)).toEqual([
      expect.objectContaining({ accountId: 'v6:0', onAddress: false, subnet: '2001:db8::/48' }),
    ]);
    const mapped = await run('ip-neighbourhood', { address: '::ffff:203.0.113.12' });
    expect(rowsOf(mapped)).toEqual(
      rowsOf(await run('ip-neighbourhood', { address: '203.0.113.12' })),
    );
    expect(rowsOf(mapped)[0]).toMatchObject({ accountId: 'ring:2', onAddress: true });
  });

  it('near-duplicate-prompts reads a fingerprint in either case', async () => {
    const lower = await run('near-duplicate-prompts', { fingerprint: '0123456789abcdef' });
    const upper = await run('near-duplicate-prompts', { fingerprint: '0123456789ABCDEF' });
    expect(upper.status).toBe(200);
    expect(rowsOf(upper).length).toBeGreaterThan(0);
    expect(rowsOf(upper)).toEqual(rowsOf(lower));
  });

  it('near-duplicate-prompts by Hamming distance', async () => {
    const res = await run('near-duplicate-prompts', { fingerprint: '0123456789abcdef' });
    const byHash = new Map(rowsOf(res).map((r) => [r.fingerprint, r.distance]));
    expect(Object.fromEntries(byHash)).toEqual({
      '0123456789abcdef': 0,
      '0123456789abcdee': 1,
      '0123456789abcdec': 2,
    });
    const close = await run('near-duplicate-prompts', {
      fingerprint: '0123456789abcdef',
      maxDistance: 1,
    });
    expect(new Set(rowsOf(close).map((r) => r.fingerprint))).toEqual(
      new Set(['0123456789abcdef', '0123456789abcdee']),
    );
    // Differs in the first band only: still found (another band matches).
    const far = await run('near-duplicate-prompts', { fingerprint: '8123456789abcdef' });
    expect(rowsOf(far).every((r) => (r.distance as number) >= 1)).toBe(true);
    expect(rowsOf(far).length).toBeGreaterThan(0);
  });

  it('shortest-identifier-chain returns the chain and each hop, without internal properties', async () => {
    const res = await run('shortest-identifier-chain', {
      fromAccountId: 'ring:0',
      toAccountId: 'ring:5',
    });
    expect(rowsOf(res)).toHaveLength(1);
    const [row] = rowsOf(res) as [
      { hops: number; chain: string[]; via: { type: string; count: number }[]; aged: unknown },
    ];
    expect(row.hops).toBe(2);
    expect(row.chain[0]).toBe('Account:ring:0');
    expect(row.chain[2]).toBe('Account:ring:5');
    expect(Object.keys(row).sort()).toEqual(['aged', 'chain', 'hops', 'via']);
    expect(row.aged).toBe(false); // the current run aged nothing
    expect(row.via).toHaveLength(2);
    for (const hop of row.via)
      expect(Object.keys(hop).sort()).toEqual(['count', 'kind', 'lastSeen', 'type']);
    const none = await run('shortest-identifier-chain', {
      fromAccountId: 'ring:0',
      toAccountId: 'solo:0',
    });
    expect(rowsOf(none)).toEqual([]);
  });

  it('shortest-identifier-chain does not pass through an identifier more than maxShared hold', async () => {
    // Everything ring:0 and ring:5 could chain through (their card, email domain, prompts,
    // their IPs' subnet) is held by six accounts (the subnet by six IPs).
    const chain = (maxShared: number) =>
      run('shortest-identifier-chain', {
        fromAccountId: 'ring:0',
        toAccountId: 'ring:5',
        maxShared,
      });
    expect(rowsOf(await chain(6)).map((r) => r.hops)).toEqual([2]);
    expect(rowsOf(await chain(5))).toEqual([]);
    expect((await chain(1)).status).toBe(400);
  });

  it('shortest-identifier-chain counts a subnet by the accounts on its IPs, not by its IPs (review, 12-07)', async () => {
    // A /24 of two addresses, each behind two accounts: four accounts, two IPs. Counted by
    // its IPs, a subnet of 250 carrier addresses was never a hub.
    const events = [
      ['cn:0', '10.77.0.1'],
      ['cn:1', '10.77.0.1'],
      ['cn:2', '10.77.0.2'],
      ['cn:3', '10.77.0.2'],
    ].map(([accountId, ip]) => ({ type: 'request', accountId, at: '2026-02-05T00:00:00Z', ip }));
    expect((await postJson(`${svc.url}/v1/events`, { events }, auth('ingest'))).status).toBe(200);
    const chain = (maxShared: number) =>
      run('shortest-identifier-chain', { fromAccountId: 'cn:0', toAccountId: 'cn:2', maxShared });
    // account, IP, subnet, IP, account
    expect(rowsOf(await chain(4)).map((r) => [r.hops, r.chain])).toEqual([
      [4, ['Account:cn:0', 'IP:10.77.0.1', 'Subnet:10.77.0.0/24', 'IP:10.77.0.2', 'Account:cn:2']],
    ]);
    expect(rowsOf(await chain(3))).toEqual([]); // each IP's two pass; the subnet's four do not
  });

  it('signup-bursts in a time window', async () => {
    const res = await run('signup-bursts', {
      from: '2026-02-01T00:00:00Z',
      to: '2026-02-02T00:00:00Z',
    });
    expect(rowsOf(res)).toEqual([
      { bucketStart: T0, bucketEnd: T0 + 3_600_000, signups: 6, sample: RING },
    ]);
    const quiet = await run('signup-bursts', {
      from: '2026-03-01T00:00:00Z',
      to: '2026-03-02T00:00:00Z',
    });
    expect(rowsOf(quiet)).toEqual([]);
    // A window off the hour: its buckets start at `from` and the last ends at `to` (they
    // began at the epoch's hours, before `from`, counting only part of the bucket shown).
    const off = await run('signup-bursts', {
      from: new Date(T0 - 30 * 60_000).toISOString(),
      to: new Date(T0 + 20 * 60_000).toISOString(),
    });
    expect(rowsOf(off)).toEqual([
      { bucketStart: T0 - 30 * 60_000, bucketEnd: T0 + 20 * 60_000, signups: 6, sample: RING },
    ]);
  });

  it('model-migration: accounts that moved to a new model within 24 hours', async () => {
    const res = await run('model-migration', { model: 'model-new', minShare: 0.6 });
    expect(rowsOf(res).map((r) => r.accountId)).toEqual(RING);
    expect(rowsOf(res)[0]).toMatchObject({
      modelReleased: T0 + 12 * 3_600_000, // its third account: ben:0 alone came first, at 10 h
      onModel: 3,
      inWindow: 3,
      share: 1,
    });
    // ben:0's one request came before the release: an early tester, not a mover
    const loose = await run('model-migration', { model: 'model-new', minShare: 0.1 });
    expect(rowsOf(loose).map((r) => r.accountId)).toEqual(RING);
  });

  it('model-migration: the share is of all requests in the window, those naming no model too', async () => {
    // mm:0 sends one request to model-z and 97 that name no model, in the same hour: it
    // did not move its traffic (the share was of its models' requests only: 1).
    const at = (m: number) => new Date(Date.UTC(2026, 3, 1, 9, m)).toISOString();
    const events: Record<string, unknown>[] = ['mm:0', 'mm:1', 'mm:2'].map((accountId, i) => ({
      type: 'request',
      accountId,
      at: at(i),
      model: 'model-z',
    }));
    for (let k = 0; k < 97; k++) events.push({ type: 'request', accountId: 'mm:0', at: at(10) });
    const sent = await postJson(`${svc.url}/v1/events`, { events }, auth('ingest'));
    expect(sent.status).toBe(200);
    const movers = await run('model-migration', { model: 'model-z' });
    expect(rowsOf(movers).map((r) => r.accountId)).toEqual(['mm:1', 'mm:2']);
    const all = await run('model-migration', { model: 'model-z', minShare: 0 });
    expect(rowsOf(all).find((r) => r.accountId === 'mm:0')).toMatchObject({
      onModel: 1,
      inWindow: 98,
    });
  });

  it('model-migration: an account on the model since long before its release did not move to it', async () => {
    // ea:0 is on model-e three days before the release (the third account's first use:
    // ea:2's, at 09:01) and sends all its traffic to it in the window: early access, not a move,
    // as the scorer's model_pivot_24h takes it (activity.ts, modelPivot).
    const at = (day: number, m: number) => new Date(Date.UTC(2026, 4, day, 9, m)).toISOString();
    const events: Record<string, unknown>[] = [
      { type: 'request', accountId: 'ea:0', at: at(1, 0), model: 'model-e' },
      ...['ea:1', 'ea:2', 'ea:3'].map((accountId, i) => ({
        type: 'request',
        accountId,
        at: at(4, i),
        model: 'model-e',
      })),
      ...[10, 11, 12].map((m) => ({
        type: 'request',
        accountId: 'ea:0',
        at: at(4, m),
        model: 'model-e',
      })),
    ];
    const sent = await postJson(`${svc.url}/v1/events`, { events }, auth('ingest'));
    expect(sent.status).toBe(200);
    const movers = await run('model-migration', { model: 'model-e' });
    expect(rowsOf(movers)[0]).toMatchObject({ modelReleased: Date.parse(at(4, 1)) });
    expect(rowsOf(movers).map((r) => r.accountId)).toEqual(['ea:1', 'ea:2', 'ea:3']);
  });

  it("cluster-strongest-identifiers of the current run's cluster", async () => {
    const res = await run('cluster-strongest-identifiers', { clusterId: 'c-ring', limit: 3 });
    expect(rowsOf(res).map((r) => [r.kind, r.value, r.members])).toEqual([
      ['prompt', '0123456789abcdef', 6],
      ['email_domain', 'mail.example', 6],
      ['payment', 'pm-ring', 6],
    ]);
    // the run it read: the database's current one, which a lagging replica may not serve yet
    expect(rowsOf(res)[0]).toMatchObject({ holders: 6, memberShare: 1, runId: expect.any(String) });
    // Each row counts its members' links to the value; the run aged none of them.
    expect(rowsOf(res).map((r) => r.aged)).toEqual([false, false, false]);
    expect(rowsOf(res)[2]?.linkAges).toEqual({ links: 6, agedLinks: 0, seenSince: 0 });
    const current = await neo4j.driver.executeQuery(
      "MATCH (p:Pointer {name: 'current'}) RETURN p.runId AS runId",
    );
    expect(rowsOf(res).every((r) => r.runId === current.records[0]?.get('runId'))).toBe(true);
  });

  it("marks the rows whose links the current run left out as aged, by that run's ages", async () => {
    const current = await neo4j.driver.executeQuery(
      "MATCH (p:Pointer {name: 'current'}) RETURN p.runId AS runId",
    );
    const runId = current.records[0]?.get('runId') as string;
    const setAges = (params: object, stats: object) =>
      neo4j.driver.executeQuery(
        'MATCH (r:LinkageRun {id: $runId}) SET r.params = $params, r.stats = $stats',
        { runId, params: JSON.stringify(params), stats: JSON.stringify(stats) },
      );
    const neighbours = async () => {
      const res = await run('ip-neighbourhood', { address: '203.0.113.0/24' });
      expect(res.status).toBe(200);
      expect(res.body.columns).toContain('aged');
      expect(res.body.agesRunId).toBe(runId);
      return rowsOf(res) as { accountId: string; lastSeen: number; aged: boolean | null }[];
    };
    // The run recorded no ages: nothing is marked.
    const rows = await neighbours();
    expect(rows.length).toBeGreaterThan(2);
    expect(rows.every((r) => r.aged === false)).toBe(true);
    // The ring's six IP links were all last seen at one time; IP links age after a day,
    // counted back from the run's newest activity.
    const lastSeen = [...new Set(rows.map((r) => r.lastSeen))];
    expect(lastSeen).toHaveLength(1);
    const last = lastSeen[0] as number;
    const agedOf = async () => [...new Set((await neighbours()).map((r) => r.aged))];
    const ipAfterADay = (asOf: number) =>
      setAges({ linkMaxAgeDays: { ip: 1 } }, { extract: { agedAsOf: asOf } });
    try {
      await ipAfterADay(last + 86_400_000 + 1);
      expect(await agedOf()).toEqual([true]);
      await ipAfterADay(last + 86_400_000); // exactly a day old: kept, as extract keeps it
      expect(await agedOf()).toEqual([false]);
      // The ring's card as one of its cluster's shared values: with payment links aged
      // long after, all six are aged; two links without a lastSeen never age, and two
      // kept links link the pair.
      const strongest = async () =>
        rowsOf(await run('cluster-strongest-identifiers', { clusterId: 'c-ring', limit: 20 }));
      const card = async () =>
        (await strongest()).find((r) => r.kind === 'payment' && r.value === 'pm-ring');
      await setAges({ linkMaxAgeDays: { payment: 1 } }, { extract: { agedAsOf: last + 3e10 } });
      expect(await card()).toMatchObject({
        linkAges: { links: 6, agedLinks: 6, seenSince: 0 },
        aged: true,
      });
      // ring:2's and ring:3's links lose their lastSeen for a moment (restored after).
      const cardLink = `MATCH (a:Account)-[l:PAID_WITH]->(:PaymentMethod {fingerprint: 'pm-ring'})
         WHERE a.id IN ['ring:2', 'ring:3']`;
      const dated = await neo4j.driver.executeQuery(
        `${cardLink} RETURN a.id AS id, l.lastSeen AS lastSeen`,
      );
      expect(dated.records).toHaveLength(2);
      await neo4j.driver.executeQuery(`${cardLink} REMOVE l.lastSeen`);
      try {
        expect(await card()).toMatchObject({
          linkAges: { links: 6, agedLinks: 4, seenSince: 0 },
          aged: false,
        });
      } finally {
        await neo4j.driver.executeQuery(
          `UNWIND $rows AS row
           MATCH (a:Account {id: row.id})-[l:PAID_WITH]->(:PaymentMethod {fingerprint: 'pm-ring'})
           SET l.lastSeen = row.lastSeen`,
          { rows: dated.records.map((r) => ({ id: r.get('id'), lastSeen: r.get('lastSeen') })) },
        );
      }
      // A chain needs every link: with every kind aged long after, any chain is aged;
      // with none aged, none is.
      const chainAged = async () =>
        (
          rowsOf(
            await run('shortest-identifier-chain', {
              fromAccountId: 'ring:0',
              toAccountId: 'ring:5',
            }),
          ) as { aged: unknown }[]
        ).map((r) => r.aged);
      const everyKind = { payment: 1, device: 1, ip: 1, prompt: 1, email_domain: 1, org: 1 };
      await setAges({ linkMaxAgeDays: everyKind }, { extract: { agedAsOf: last + 3e10 } });
      expect(await chainAged()).toEqual([true]);
      // The cluster's shared values too: no two members' links to any of them were kept.
      const strongestAged = async () => [...new Set((await strongest()).map((r) => r.aged))];
      expect(await strongestAged()).toEqual([true]);
      await setAges({}, {});
      expect(await chainAged()).toEqual([false]);
      expect(await strongestAged()).toEqual([false]);
      // A kind the run did not age marks nothing: payment links here.
      const paid = await run('accounts-sharing-payment-method', { accountId: 'ring:0' });
      expect(rowsOf(paid).length).toBeGreaterThan(0);
      expect(rowsOf(paid).every((r) => r.aged === false)).toBe(true);
      // …and marks them when it names payment (a year after their last sighting).
      await setAges({ linkMaxAgeDays: { payment: 1 } }, { extract: { agedAsOf: last + 3e10 } });
      const paidAged = await run('accounts-sharing-payment-method', { accountId: 'ring:0' });
      expect(rowsOf(paidAged).map((r) => r.aged)).toEqual(rowsOf(paid).map(() => true));
      // A card links two accounts only while both their links to it are kept: ring:1 paid
      // with it again three days later, so its link is kept and ring:0's aged. Neither
      // side's row may say the run linked them (review, 12-06: the other's link alone did).
      const again = await postJson(
        `${svc.url}/v1/events`,
        {
          events: [
            {
              type: 'payment',
              accountId: 'ring:1',
              at: iso(T0 + 3 * DAY),
              paymentMethod: 'pm-ring',
            },
          ],
        },
        auth('ingest'),
      );
      expect(again.status).toBe(200);
      await setAges({ linkMaxAgeDays: { payment: 1 } }, { extract: { agedAsOf: T0 + 3 * DAY } });
      const agedFor = async (from: string, to: string) =>
        rowsOf(await run('accounts-sharing-payment-method', { accountId: from })).find(
          (r) => r.accountId === to,
        )?.aged;
      expect(await agedFor('ring:0', 'ring:1')).toBe(true);
      expect(await agedFor('ring:1', 'ring:0')).toBe(true);
      expect(await agedFor('ring:1', 'ring:2')).toBe(true); // ring:2's link old
      // The card's row among the cluster's shared values: one kept link links no two members.
      const cardAged = async () =>
        (await strongest()).find((r) => r.kind === 'payment' && r.value === 'pm-ring')?.aged;
      expect(await cardAged()).toBe(true);
      // with ring:0's link kept too (ages counted from its sighting), they are linked
      await setAges({ linkMaxAgeDays: { payment: 4 } }, { extract: { agedAsOf: T0 + 3 * DAY } });
      expect(await agedFor('ring:0', 'ring:1')).toBe(false);
      expect(await cardAged()).toBe(false);
      // Seen again after the run's newest activity: what it read is gone (null).
      await ipAfterADay(last - 1);
      expect(await agedOf()).toEqual([null]);
    } finally {
      await setAges({}, {});
    }
  });

  it('cluster-strongest-identifiers reads the run whose ages it applies, not a newer pointer (review, 12-07)', async () => {
    // A replica that read the pointer before a publish: it judged rows of the new run by
    // the old run's ages (runId and agesRunId differed).
    const lagging = await startService(neo4j, {
      API_KEYS,
      CURRENT_RUN_CHECK_MS: '600000',
      LOG_LEVEL: 'warn',
    });
    const strongest = async () => {
      const res = await postJson(
        `${lagging.url}/v1/investigations/cluster-strongest-identifiers`,
        { clusterId: 'c-ring', limit: 20 },
        auth('analyst'),
      );
      expect(res.status).toBe(200);
      return res.body;
    };
    const pointer = await neo4j.driver.executeQuery(
      "MATCH (p:Pointer {name: 'current'}) RETURN p.runId AS runId, p.previousRunId AS previous",
    );
    const [runId, previous] = ['runId', 'previous'].map((k) => pointer.records[0]?.get(k));
    expect(runId).toBe('r-1');
    try {
      const before = await strongest();
      expect(before).toMatchObject({ agesRunId: 'r-1' });
      await seedRun(neo4j.driver, 'r-lag', [{ ...RING_CLUSTER, members: RING.slice(0, 2) }]);
      const after = await strongest();
      expect(after.agesRunId).toBe('r-1');
      // every row from that run's cluster of 6, none from r-lag's of 2
      expect(rowsOf({ body: after }).map((r) => [r.runId, r.members])).toEqual(
        rowsOf({ body: before }).map((r) => [r.runId, r.members]),
      );
      expect(new Set(rowsOf({ body: after }).map((r) => r.runId))).toEqual(new Set(['r-1']));
    } finally {
      await lagging.stop();
      await neo4j.driver.executeQuery(
        `MATCH (p:Pointer {name: 'current'})
         SET p.runId = $runId, p.previousRunId = $previous, p.version = p.version + 1
         WITH 1 AS one MATCH (r:LinkageRun {id: 'r-lag'}) OPTIONAL MATCH (r)-[:PRODUCED]->(c)
         DETACH DELETE r, c`,
        { runId, previous },
      );
    }
  });

  it('400 for missing, mistyped or unknown parameters; 404 for an unknown name', async () => {
    const cases: [string, unknown, string][] = [
      ['accounts-sharing-payment-method', {}, 'accountId'],
      ['accounts-sharing-payment-method', { accountId: 7 }, 'accountId'],
      ['accounts-sharing-payment-method', { accountId: 'a', limit: 'ten' }, 'limit'],
      ['accounts-sharing-payment-method', { accountId: 'a', limit: 2.5 }, 'limit'],
      ['accounts-sharing-payment-method', { accountId: 'a', bogus: 1 }, ''],
      ['signup-bursts', { from: 'yesterday', to: '2026-02-02T00:00:00Z' }, 'from'],
      // an empty or backwards window (@check from < to) was 200 with no rows
      ['signup-bursts', { from: '2026-02-02T00:00:00Z', to: '2026-02-01T00:00:00Z' }, 'to'],
      ['signup-bursts', { from: '2026-02-01T00:00:00Z', to: '2026-02-01T00:00:00Z' }, 'to'],
      // one account at both ends (@check fromAccountId != toAccountId) was 200 with no rows
      [
        'shortest-identifier-chain',
        { fromAccountId: 'acct-1', toAccountId: 'acct-1' },
        'toAccountId',
      ],
      ['model-migration', { model: 'm', minShare: 'half' }, 'minShare'],
      ['model-migration', { model: 'm', minShare: 2 }, 'minShare'],
      ['model-migration', { model: 'm', hours: -1 }, 'hours'],
      [
        'signup-bursts',
        { from: '2026-02-01T00:00:00Z', to: '2026-02-02T00:00:00Z', bucketMinutes: 0 },
        'bucketMinutes',
      ],
      ['near-duplicate-prompts', { fingerprint: '0'.repeat(16), maxDistance: -1 }, 'maxDistance'],
      ['accounts-sharing-payment-method', { accountId: 'a', limit: 0 }, 'limit'],
      // Values that could never match what the graph holds are refused, not run.
      ['ip-neighbourhood', { address: 'not-an-ip' }, 'address'],
      ['ip-neighbourhood', { address: '10.0.0.0/16' }, 'address'],
      ['ip-neighbourhood', { address: '' }, 'address'],
      ['near-duplicate-prompts', { fingerprint: 'xyz' }, 'fingerprint'],
      ['near-duplicate-prompts', { fingerprint: '0123456789abcdeg' }, 'fingerprint'],
      ['accounts-sharing-payment-method', { accountId: 'ring 0' }, 'accountId'],
      ['shortest-identifier-chain', { fromAccountId: 'ring:0', toAccountId: '' }, 'toAccountId'],
      ['cluster-strongest-identifiers', { clusterId: '' }, 'clusterId'],
      ['model-migration', { model: '' }, 'model'],
    ];
    for (const [name, body, path] of cases) {
      const res = await run(name, body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: { code: 'validation_failed' } });
      const details = (res.body.error as { details: { path: string }[] }).details;
      expect(details.map((d) => d.path)).toContain(path);
    }
    const notJson = await postJson(
      `${svc.url}/v1/investigations/signup-bursts`,
      '{oops',
      auth('analyst'),
    );
    expect(notJson).toMatchObject({ status: 400, body: { error: { code: 'invalid_json' } } });
    const unknown = await run('no-such-investigation', {});
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
  });

  it('caps rows and says so', async () => {
    const res = await postJson(
      `${capped.url}/v1/investigations/accounts-sharing-payment-method`,
      { accountId: 'ring:0' },
      auth('analyst'),
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ rowCount: 2, truncated: true });
  });

  it('401 without a key, 403 for the ingest role', async () => {
    const anon = await postJson(`${svc.url}/v1/investigations/signup-bursts`, {});
    expect(anon).toMatchObject({ status: 401, body: { error: { code: 'unauthenticated' } } });
    expect((await getJson(`${svc.url}/v1/investigations`)).status).toBe(401);
    const ingest = await run('signup-bursts', {}, 'ingest');
    expect(ingest).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    expect((await getJson(`${svc.url}/v1/investigations`, auth('ingest'))).status).toBe(403);
  });

  it('records who ran which investigation with which parameters', async () => {
    await run('accounts-sharing-payment-method', { accountId: 'ring:4' });
    const res = await neo4j.driver.executeQuery(
      "MATCH (e:AuditEntry {action: 'investigation', target: 'accounts-sharing-payment-method'}) RETURN e {.*} AS e ORDER BY e.at DESC LIMIT 1",
    );
    const entry = res.records[0]?.get('e') as Record<string, unknown>;
    expect(entry).toMatchObject({ actor: 'ana', role: 'analyst', outcome: 'ok' });
    expect(JSON.parse(entry.params as string)).toEqual({ accountId: 'ring:4', limit: 100 });
    expect(svc.logs.some((l) => l.includes('"audit":true') && l.includes('ring:4'))).toBe(true);
    // Times are integers, as cypher/README says: datetime({epochMillis}) refuses a float
    // (review: audit times were written as floats).
    const times = await neo4j.driver.executeQuery(
      `MATCH (e:AuditEntry {id: $id})
       RETURN e.at IS :: INTEGER NOT NULL AND e.endedAt IS :: INTEGER NOT NULL AS integers,
              datetime({epochMillis: e.at}) <= datetime({epochMillis: e.endedAt}) AS ordered`,
      { id: entry.id },
    );
    expect(times.records.map((r) => [r.get('integers'), r.get('ordered')])).toEqual([[true, true]]);
  });

  it('writes the audit line whatever LOG_LEVEL says', async () => {
    const res = await postJson(
      `${capped.url}/v1/investigations/accounts-sharing-payment-method`,
      { accountId: 'ring:5' },
      auth('analyst'),
    );
    expect(res.status).toBe(200);
    const lines = capped.logs.map((l) => JSON.parse(l) as Record<string, unknown>);
    // The service logs at warn (no request lines), yet the audit line is there, at info.
    expect(lines.filter((l) => l.req !== undefined)).toEqual([]);
    // Two lines of one entry: before the query ran, and with its outcome.
    const audit = lines.filter(
      (l) => l.audit === true && JSON.stringify(l.params).includes('ring:5'),
    );
    expect(audit).toEqual([
      expect.objectContaining({
        level: 30,
        actor: 'ana',
        params: { accountId: 'ring:5', limit: 100 },
        outcome: 'started',
      }),
      expect.objectContaining({
        level: 30,
        actor: 'ana',
        params: { accountId: 'ring:5', limit: 100 },
        outcome: 'ok',
        id: audit[0]?.id,
        endedAt: expect.any(Number),
      }),
    ]);
  });
});

describe('what an investigation holds in Neo4j', () => {
  it('signup-bursts keeps counts per bucket, not every account id of the window', async () => {
    // Review, 12-05: it collected every id of the window before keeping 50 per bucket;
    // 100,000 sign-ups in one hour held 33.7 MB of transaction memory (14.6 kB now).
    const from = Date.parse('2031-01-01T00:00:00Z');
    await neo4j.driver.executeQuery(
      `UNWIND range(0, 19999) AS i
       CREATE (:Account {id: 'burst:' + toString(100000 + i), signupAt: $from + i * 100})`,
      { from: neo4jDriver.int(from) },
    );
    try {
      const text = loadCypher().get('investigations/signup-bursts') as string;
      const res = await neo4j.driver.executeQuery(`PROFILE ${text}`, {
        from: neo4jDriver.int(from),
        to: neo4jDriver.int(from + 86_400_000),
        bucketMinutes: neo4jDriver.int(60),
        minSignups: neo4jDriver.int(5),
        limit: neo4jDriver.int(100),
      });
      const [row] = res.records.map((r) => r.toObject());
      expect(res.records).toHaveLength(1);
      expect(Number(row?.signups)).toBe(20_000);
      expect(row?.sample).toEqual(
        Array.from({ length: 50 }, (_, i) => `burst:${String(100000 + i)}`),
      );
      const plan = res.summary.profile as unknown as { arguments: { GlobalMemory?: unknown } };
      // about 6.7 MB when every id was collected
      expect(Number(plan.arguments.GlobalMemory)).toBeLessThan(1_000_000);
    } finally {
      await neo4j.driver.executeQuery("MATCH (a:Account) WHERE a.id STARTS WITH 'burst:' DELETE a");
    }
  });
});
