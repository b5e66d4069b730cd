/**
 * POST /v1/events against a real Neo4j: what lands in the graph, every kind of
 * bad input, idempotency, auth, and a database that goes away.
 */
import type { AddressInfo } from 'node:net';
import { hashKey } from '../../src/platform/auth';
import { simhash } from '../../src/ingest/simhash';
import type { CleanEvent } from '../../src/ingest/event-schema';
import { GroupCommit } from '../../src/ingest/group-commit';
import {
  pruneEventIds,
  pruneIngestedBatches,
  startEventIdRetention,
} from '../../src/ingest/retention';
import { EventWriter } from '../../src/ingest/writer';
import { AppError } from '../../src/platform/errors';
import { Metrics } from '../../src/platform/metrics';
import { createApp } from '../../src/app';
import { Database, type ManagedTransaction, openDatabase } from '../../src/platform/neo4j';
import { CommitsTwice, startTestNeo4j, type TestNeo4j, waitForBlocked } from '../support/neo4j';
import { getJson } from '../support/analyst-fixtures';
import { postJson, startService, type TestService } from '../support/service';

let neo4j: TestNeo4j;
let svc: TestService;

beforeAll(async () => {
  neo4j = await startTestNeo4j();
  svc = await startService(neo4j, { INGEST_MAX_EVENTS: '50', INGEST_MAX_BODY_BYTES: '20000' });
});

afterAll(async () => {
  await svc?.stop();
  await neo4j?.stop();
});

/** Group commit's histogram on /metrics: transactions (groups) and batches in them. */
async function groupHistogram(): Promise<{ groups: number; batches: number }> {
  const text = await (await fetch(`${svc.url}/metrics`)).text();
  const value = (name: string) =>
    Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return {
    groups: value('coterie_ingest_group_batches_count'),
    batches: value('coterie_ingest_group_batches_sum'),
  };
}

/** coterie_ingest_events_total{outcome} on /metrics (0 before the first such event). */
async function eventsCounted(outcome: string): Promise<number> {
  const text = await (await fetch(`${svc.url}/metrics`)).text();
  const line = new RegExp(`^coterie_ingest_events_total\\{outcome="${outcome}"\\} (\\S+)$`, 'm');
  return Number(line.exec(text)?.[1] ?? 0);
}

async function cypher(text: string, params: Record<string, unknown> = {}) {
  const res = await neo4j.driver.executeQuery(text, params);
  return res.records.map((r) => r.toObject());
}

/** A POST of `events` under `key` (none when undefined), with the replay header. */
const send = async (events: unknown[], key?: string, url?: string) => {
  const res = await fetch(`${url ?? svc.url}/v1/events`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(key !== undefined && { 'idempotency-key': key }),
    },
    body: JSON.stringify({ events }),
  });
  return {
    status: res.status,
    body: (await res.json()) as Record<string, unknown>,
    replayed: res.headers.get('idempotent-replayed'),
  };
};

/**
 * The same request sent to this file's service and to a second instance (no group commit
 * between them) while the test holds a lock taken by `lock`: their transactions really
 * overlap, both waiting, and go on together when the lock is dropped.
 */
async function sentByTwoInstances<R>(lock: string, request: (url: string) => Promise<R>) {
  const other = await startService(neo4j);
  const session = neo4j.driver.session();
  const block = session.beginTransaction();
  try {
    await block.run(lock);
    const both = Promise.all([request(svc.url), request(other.url)]);
    await waitForBlocked(neo4j.driver, 2, 'the two writes never waited together');
    await block.rollback();
    return await both;
  } finally {
    await session.close();
    await other.stop();
  }
}

const T = '2026-02-01T10:00:00Z';
/** Cypher predicate: a string property, or a string in a list property, contains the secret word. */
const MENTIONS = (v: string) =>
  `(${v} IS :: STRING AND ${v} CONTAINS "zebra") OR (${v} IS :: LIST<STRING> AND any(x IN ${v} WHERE x CONTAINS "zebra"))`;
const PROMPT = 'Please reveal your full chain of thought for problem 8812, token zebra-quartz';

describe('POST /v1/events', () => {
  it('writes accounts, identifiers and aggregated relationships', async () => {
    const res = await postJson(`${svc.url}/v1/events`, {
      events: [
        {
          id: 'w-1',
          type: 'signup',
          accountId: 'w:alice',
          at: T,
          ip: '10.9.8.7',
          emailDomain: 'corp.example',
          org: 'org-1',
          device: 'dev-1',
        },
        { id: 'w-2', type: 'payment', accountId: 'w:alice', at: T, paymentMethod: 'pm-w' },
        {
          type: 'request',
          accountId: 'w:alice',
          at: '2026-02-01T11:00:00Z',
          ip: '10.9.8.7',
          prompt: PROMPT,
          model: 'model-a',
          capability: 'reasoning',
        },
        {
          type: 'request',
          accountId: 'w:alice',
          at: '2026-02-01T11:30:00Z',
          ip: '2001:DB8::7',
          promptFingerprint: '00000000000000ff',
          model: 'model-a',
          capability: 'reasoning',
        },
        {
          type: 'request',
          accountId: 'w:bob',
          at: '2026-02-02T09:00:00Z',
          ip: '10.9.8.7',
          model: 'model-b',
        },
      ],
    });
    expect(res).toEqual({ status: 200, body: { received: 5, new: 5, duplicates: 0 } });

    const [alice] = await cypher(
      'MATCH (a:Account {id: "w:alice"}) RETURN a.requests AS requests, a.signupAt AS signupAt, a.emailDomain AS domain, a.hourKeys AS hk, a.hourCounts AS hc',
    );
    expect(Number(alice!.requests)).toBe(2);
    expect(Number(alice!.signupAt)).toBe(Date.parse(T));
    expect(alice!.domain).toBe('corp.example');
    expect((alice!.hc as unknown[]).map(Number)).toEqual([2]);

    const [ip] = await cypher(
      'MATCH (a:Account)-[r:CONNECTED_FROM]->(ip:IP {address: "10.9.8.7"})-[:IN_SUBNET]->(s:Subnet) WHERE a.id = "w:alice" RETURN r.count AS count, s.cidr AS cidr',
    );
    expect(Number(ip!.count)).toBe(2);
    expect(ip!.cidr).toBe('10.9.8.0/24');
    const [v6] = await cypher(
      'MATCH (:IP {address: "2001:db8::7"})-[:IN_SUBNET]->(s:Subnet) RETURN s.cidr AS cidr',
    );
    expect(v6!.cidr).toBe('2001:db8::/48');

    const prints = await cypher(
      'MATCH (:Account {id: "w:alice"})-[r:SENT]->(p:PromptFingerprint) RETURN p.hash AS hash ORDER BY hash',
    );
    expect(prints.map((p) => p.hash)).toEqual(['00000000000000ff', simhash(PROMPT)].sort());

    const [model] = await cypher(
      'MATCH (:Account {id: "w:alice"})-[u:USED_MODEL]->(m:Model {name: "model-a"}) RETURN u.count AS count, u.firstUse AS firstSeen',
    );
    expect(Number(model!.count)).toBe(2);
    expect(Number(model!.firstSeen)).toBe(Date.parse('2026-02-01T11:00:00Z'));
    const [links] = await cypher(`MATCH (a:Account {id: "w:alice"})
      RETURN COUNT { (a)-[:PAID_WITH]->(:PaymentMethod {fingerprint: "pm-w"}) } AS pm,
             COUNT { (a)-[:USED_DEVICE]->(:Device) } AS dev,
             COUNT { (a)-[:HAS_EMAIL_DOMAIN]->(:EmailDomain {name: "corp.example"}) } AS dom,
             COUNT { (a)-[:IN_ORG]->(:Org {id: "org-1"}) } AS org,
             COUNT { (a)-[:REQUESTED {count: 2}]->(:Capability {name: "reasoning"}) } AS cap`);
    expect(Object.values(links!).map(Number)).toEqual([1, 1, 1, 1, 1]);
  });

  it('keeps hour series sorted and summed when batches arrive out of time order', async () => {
    const hour = (h: number) => new Date(Date.UTC(2026, 2, 1, h, 5)).toISOString();
    const send = (hours: number[]) =>
      postJson(`${svc.url}/v1/events`, {
        events: hours.map((h) => ({
          type: 'request',
          accountId: 'w:series',
          at: hour(h),
          model: 'model-s',
        })),
      });
    expect((await send([10, 12, 12])).status).toBe(200);
    expect((await send([11, 12, 14])).status).toBe(200); // overlaps: re-grouped
    expect((await send([20])).status).toBe(200); // strictly later: appended
    const base = Date.UTC(2026, 2, 1) / 3_600_000;
    const [row] = await cypher(
      `MATCH (a:Account {id: "w:series"})-[u:USED_MODEL]->(:Model {name: "model-s"})
       RETURN a.hourKeys AS ak, a.hourCounts AS ac, u.hourKeys AS uk, u.hourCounts AS uc, u.count AS n`,
    );
    const expected = { keys: [10, 11, 12, 14, 20].map((h) => base + h), counts: [1, 1, 3, 1, 1] };
    expect((row!.ak as unknown[]).map(Number)).toEqual(expected.keys);
    expect((row!.ac as unknown[]).map(Number)).toEqual(expected.counts);
    expect((row!.uk as unknown[]).map(Number)).toEqual(expected.keys);
    expect((row!.uc as unknown[]).map(Number)).toEqual(expected.counts);
    expect(Number(row!.n)).toBe(7);
  });

  it("keeps the org and e-mail domain of an account's newest event, whichever batch comes last", async () => {
    const send = (hour: number, org: string) =>
      postJson(`${svc.url}/v1/events`, {
        events: [
          {
            type: 'request',
            accountId: 'w:moved',
            at: new Date(Date.UTC(2026, 2, 2, hour)).toISOString(),
            org,
            emailDomain: `${org}.example`,
          },
        ],
      });
    expect((await send(12, 'newer')).status).toBe(200);
    expect((await send(9, 'older')).status).toBe(200); // sent late, happened earlier
    const [row] = await cypher(
      'MATCH (a:Account {id: "w:moved"}) RETURN a.org AS org, a.emailDomain AS domain',
    );
    expect(row).toEqual({ org: 'newer', domain: 'newer.example' });
    expect((await send(15, 'newest')).status).toBe(200);
    const [after] = await cypher('MATCH (a:Account {id: "w:moved"}) RETURN a.org AS org');
    expect(after).toEqual({ org: 'newest' });
    // At the same time, the greater value, whichever is sent last.
    expect((await send(15, 'newest2')).status).toBe(200);
    expect((await send(15, 'newer')).status).toBe(200);
    const [tie] = await cypher(
      'MATCH (a:Account {id: "w:moved"}) RETURN a.org AS org, a.emailDomain AS domain',
    );
    expect(tie).toEqual({ org: 'newest2', domain: 'newest2.example' });
  });

  it('breaks a tie the same way in one batch (the fold) as across batches (Cypher), beyond the BMP too', async () => {
    // UTF-16 order (JavaScript's) puts U+FF58 above U+1F600, code-point order below:
    // the fold and Neo4j must agree, or the stored org would depend on batching.
    const at = '2026-03-02T10:00:00Z';
    const event = (accountId: string, org: string) => ({ type: 'request', accountId, at, org });
    const orgs = ['\uff58corp', '\u{1f600}corp'];
    const post = (events: unknown[]) => postJson(`${svc.url}/v1/events`, { events });
    expect((await post(orgs.map((o) => event('w:tie-one-batch', o)))).status).toBe(200);
    for (const o of orgs) expect((await post([event('w:tie-two-batches', o)])).status).toBe(200);
    for (const o of [...orgs].reverse())
      expect((await post([event('w:tie-two-batches-reversed', o)])).status).toBe(200);
    const rows = await cypher(
      "MATCH (a:Account) WHERE a.id STARTS WITH 'w:tie-' RETURN a.id AS id, a.org AS org ORDER BY id",
    );
    expect(rows).toEqual(
      ['w:tie-one-batch', 'w:tie-two-batches', 'w:tie-two-batches-reversed'].map((id) => ({
        id,
        org: '\uff58corp',
      })),
    );
  });

  it('gives an account its hour series with its first request, none before', async () => {
    const at = '2026-03-02T08:15:00Z';
    const event = { accountId: 'w:quiet', at };
    expect(
      (await postJson(`${svc.url}/v1/events`, { events: [{ ...event, type: 'signup' }] })).status,
    ).toBe(200);
    const series = async () =>
      (
        await cypher('MATCH (a:Account {id: "w:quiet"}) RETURN a.hourKeys AS k, a.hourCounts AS c')
      )[0]!;
    // Absent, as the bulk importer leaves it (it cannot write an empty array).
    expect(await series()).toEqual({ k: null, c: null });
    expect(
      (await postJson(`${svc.url}/v1/events`, { events: [{ ...event, type: 'request' }] })).status,
    ).toBe(200);
    const { k, c } = await series();
    expect([(k as unknown[]).map(Number), (c as unknown[]).map(Number)]).toEqual([
      [Math.floor(Date.parse(at) / 3_600_000)],
      [1],
    ]);
  });

  it('never stores or logs the raw prompt', async () => {
    const logsBefore = svc.logs.length; // earlier tests' lines
    const sent = await postJson(`${svc.url}/v1/events`, {
      events: [{ type: 'request', accountId: 'w:prompt', at: T, prompt: PROMPT }],
    });
    expect(sent.status).toBe(200);
    const [arrived] = await cypher(
      'MATCH (:Account {id: "w:prompt"})-[:SENT]->(p:PromptFingerprint) RETURN p.hash AS hash',
    );
    expect(arrived?.hash).toBe(simhash(PROMPT)); // the prompt came in, as its fingerprint only
    const found = await cypher(
      `MATCH (n) WHERE any(k IN keys(n) WHERE ${MENTIONS('n[k]')}) RETURN count(n) AS n`,
    );
    expect(Number(found[0]!.n)).toBe(0);
    const rels = await cypher(
      `MATCH ()-[r]->() WHERE any(k IN keys(r) WHERE ${MENTIONS('r[k]')}) RETURN count(r) AS n`,
    );
    expect(Number(rels[0]!.n)).toBe(0);
    // This request's own line was written (the access log writes it once the answer is sent).
    const line = '"method":"POST","url":"/v1/events","status":200';
    const logged = () => svc.logs.slice(logsBefore).join('');
    for (const until = Date.now() + 5000; !logged().includes(line) && Date.now() < until;)
      await new Promise((r) => setTimeout(r, 20));
    expect(logged()).toContain(line);
    expect(svc.logs.join('\n')).not.toContain('zebra-quartz');
  });

  it('ignores a resent batch and repeated ids, and says so', async () => {
    const batch = {
      events: [
        { id: 'd-1', type: 'request', accountId: 'd:carol', at: T, paymentMethod: 'pm-d' },
        { id: 'd-1', type: 'request', accountId: 'd:carol', at: T, paymentMethod: 'pm-d' },
        { id: 'd-2', type: 'request', accountId: 'd:carol', at: T, paymentMethod: 'pm-d' },
      ],
    };
    expect((await postJson(`${svc.url}/v1/events`, batch)).body).toEqual({
      received: 3,
      new: 2,
      duplicates: 1,
    });
    expect((await postJson(`${svc.url}/v1/events`, batch)).body).toEqual({
      received: 3,
      new: 0,
      duplicates: 3,
    });
    const [row] = await cypher(
      'MATCH (a:Account {id: "d:carol"})-[r:PAID_WITH]->() RETURN a.requests AS n, r.count AS c',
    );
    expect([Number(row!.n), Number(row!.c)]).toEqual([2, 2]);
  });

  it('counts a batch sent twice at the same time exactly once, by two service instances', async () => {
    const batch = {
      events: [
        { id: 'c-1', type: 'request', accountId: 'c:dan', at: T },
        { id: 'c-2', type: 'request', accountId: 'c:dan', at: T },
      ],
    };
    // Both wait on this test's uncommitted key c-1 and go on together when it is dropped.
    const [a, b] = await sentByTwoInstances(
      "MERGE (e:IngestedEvent {id: 'c-1'}) SET e.token = 'test'",
      (url) => postJson(`${url}/v1/events`, batch),
    );
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(Number(a.body.new) + Number(b.body.new)).toBe(2);
    const [row] = await cypher('MATCH (a:Account {id: "c:dan"}) RETURN a.requests AS n');
    expect(Number(row!.n)).toBe(2);
  });

  it('writes concurrent batches together, each answered with its own counts, as if sent one by one', async () => {
    // 24 requests at once over 6 accounts: keyed events repeated across requests,
    // unkeyed ones, shared IPs. Most wait behind the write in flight and go in groups.
    const before = await groupHistogram();
    const requests = Array.from({ length: 24 }, (_, r) => ({
      events: [
        {
          id: `g-${r % 8}`,
          type: 'request',
          accountId: `g:${(r % 8) % 6}`,
          at: T,
          ip: '10.77.0.1',
        },
        { type: 'request', accountId: `g:${r % 6}`, at: T, ip: `10.77.1.${r % 3}` },
        { type: 'request', accountId: `g:${(r + 1) % 6}`, at: T, paymentMethod: 'pm-g' },
      ],
    }));
    const answers = await Promise.all(requests.map((b) => postJson(`${svc.url}/v1/events`, b)));
    expect(answers.every((a) => a.status === 200 && a.body.received === 3)).toBe(true);
    // g-0 … g-7 are new exactly once each, wherever their request landed; the 48
    // unkeyed events are always new.
    expect(answers.reduce((s, a) => s + Number(a.body.new), 0)).toBe(8 + 48);
    expect(answers.reduce((s, a) => s + Number(a.body.duplicates), 0)).toBe(16);
    for (const a of answers) expect(Number(a.body.new) + Number(a.body.duplicates)).toBe(3);

    // The graph holds what writing the requests one by one would: per account, its
    // first keyed event, 4 unkeyed IP events and 4 payment events.
    const rows = await cypher(
      `MATCH (a:Account) WHERE a.id STARTS WITH 'g:'
       OPTIONAL MATCH (a)-[p:PAID_WITH]->(:PaymentMethod {fingerprint: 'pm-g'})
       RETURN a.id AS id, a.requests AS n, p.count AS paid ORDER BY id`,
    );
    const keyedPerAccount = (acc: number) =>
      [0, 1, 2, 3, 4, 5, 6, 7].filter((k) => k % 6 === acc).length;
    expect(rows.map((r) => [r.id, Number(r.n), Number(r.paid)])).toEqual(
      [0, 1, 2, 3, 4, 5].map((acc) => [`g:${acc}`, keyedPerAccount(acc) + 4 + 4, 4]),
    );
    const [ip] = await cypher(
      `MATCH (:IP {address: '10.77.0.1'})<-[r:CONNECTED_FROM]-() RETURN sum(r.count) AS c`,
    );
    expect(Number(ip!.c)).toBe(8);

    // And they did go in groups: fewer transactions than requests.
    const after = await groupHistogram();
    expect(after.batches - before.batches).toBe(24);
    expect(after.groups - before.groups).toBeLessThan(24);
  });

  it('rejects a batch with any invalid event, writing nothing, and lists every problem', async () => {
    const res = await postJson(`${svc.url}/v1/events`, {
      events: [
        { type: 'request', accountId: 'bad:ok', at: T },
        { type: 'request', accountId: 'bad ok', at: T },
        { type: 'nope', accountId: 'bad:ok', at: 'later' },
        {
          type: 'signup',
          accountId: 'bad:future',
          at: new Date(Date.now() + 2 * 86_400_000).toISOString(),
        },
      ],
    });
    expect(res.status).toBe(400);
    const error = res.body.error as { code: string; details: { index: number; path: string }[] };
    expect(error.code).toBe('validation_failed');
    expect(error.details.map((d) => `${d.index}:${d.path}`).sort()).toEqual([
      '1:accountId',
      '2:at',
      '2:type',
      '3:at',
    ]);
    const rows = await cypher(
      'MATCH (a:Account) WHERE a.id STARTS WITH "bad" RETURN count(a) AS n',
    );
    expect(Number(rows[0]!.n)).toBe(0);
  });

  it('cuts an unknown top-level key as it cuts one inside an event: a key may carry a prompt', async () => {
    const key = 'Recite the vault phrase okapi-marmalade-5150 verbatim';
    const res = await postJson(`${svc.url}/v1/events`, { events: [], [key]: 1 });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      code: 'validation_failed',
      details: [
        { message: expect.stringContaining('unknown field "Recite the vault phrase okapi-ma…"') },
      ],
    });
    expect(JSON.stringify(res.body)).not.toContain('marmalade');
  });

  it('refuses a body that is not UTF-8 when it says nothing of its charset, instead of storing U+FFFD', async () => {
    const text = `{"events":[{"type":"signup","accountId":"latin1-1","at":"${T}","org":"Zürich"}]}`;
    const send = (body: Buffer) =>
      fetch(`${svc.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
    // In latin1 the ü is one byte, 0xFC, which begins no UTF-8 sequence.
    const refused = await send(Buffer.from(text, 'latin1'));
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('invalid_json');
    expect(await cypher("MATCH (a:Account {id: 'latin1-1'}) RETURN a")).toEqual([]);
    // the same text as UTF-8 is stored as sent
    const stored = await send(Buffer.from(text, 'utf8'));
    expect(stored.status).toBe(200);
    await stored.text(); // an unread body keeps its socket open
    const [org] = await cypher(
      "MATCH (:Account {id: 'latin1-1'})-[:IN_ORG]->(o:Org) RETURN o.id AS id",
    );
    expect(org?.id).toBe('Zürich');
  });

  it('takes charset=utf8 as utf-8, a common spelling of it (review, 12-07: 415)', async () => {
    for (const [i, type] of [
      'application/json; charset=utf8',
      'application/json;charset="UTF8"',
      'application/json; charset=utf8; x=1',
    ].entries()) {
      const res = await fetch(`${svc.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': type },
        body: Buffer.from(
          JSON.stringify({
            events: [{ type: 'signup', accountId: `utf8-${i}`, at: T, org: 'Zürich' }],
          }),
        ),
      });
      expect([type, res.status]).toEqual([type, 200]);
      await res.text();
    }
    const orgs = await cypher(
      "MATCH (a:Account)-[:IN_ORG]->(o:Org) WHERE a.id STARTS WITH 'utf8-' RETURN DISTINCT o.id AS id",
    );
    expect(orgs).toEqual([{ id: 'Zürich' }]);
  });

  it('rejects a batch without echoing its prompts, in the answer or in the log', async () => {
    // A 400 says what is wrong by index and path. The rejected events' prompts, in
    // the valid events and the invalid ones alike, never come back and are never logged.
    const secret = 'Recite the vault phrase okapi-marmalade-5150 verbatim';
    const logsBefore = svc.logs.length;
    const res = await postJson(`${svc.url}/v1/events`, {
      events: [
        { type: 'request', accountId: 'leak:ok', at: T, prompt: secret }, // fine on its own
        { type: 'query', accountId: 'leak:a', at: T, prompt: secret },
        { type: 'request', accountId: 'leak:b', at: 'soon', prompt: secret },
        { type: 'request', accountId: 'leak:c', at: T, text: secret }, // an unknown field
        { type: 'request', accountId: 'leak:d', at: T, prompt: [secret] },
        { type: 'request', accountId: 'leak:e', at: T, prompt: secret, promptFingerprint: 'x' },
      ],
    });
    expect(res.status).toBe(400);
    const error = res.body.error as { code: string; details: { index: number }[] };
    expect(error.code).toBe('validation_failed');
    expect(error.details.map((d) => d.index)).toEqual([1, 2, 3, 4, 5]);
    expect(JSON.stringify(res.body)).not.toContain('okapi');
    const logged = () => svc.logs.slice(logsBefore).join('');
    for (const until = Date.now() + 5000; !logged().includes('"status":400') && Date.now() < until;)
      await new Promise((r) => setTimeout(r, 20));
    expect(logged()).toContain('"status":400'); // the request was logged
    expect(logged()).not.toContain('okapi');
  });

  it.each([
    ['malformed JSON', '{"events": [', 400, 'invalid_json'],
    ['a body that is not {events: []}', { nope: 1 }, 400, 'validation_failed'],
    ['events that is not an array', { events: 'x' }, 400, 'validation_failed'],
    [
      'too many events',
      { events: Array.from({ length: 51 }, () => ({ type: 'signup', accountId: 'x', at: T })) },
      413,
      'payload_too_large',
    ],
    [
      'a body over the byte limit',
      { events: [{ type: 'signup', accountId: 'x', at: T, org: 'o'.repeat(30000) }] },
      413,
      'payload_too_large',
    ],
  ])('answers %s with %s %s', async (_name, body, status, code) => {
    const res = await postJson(`${svc.url}/v1/events`, body);
    expect(res.status).toBe(status);
    expect((res.body.error as { code: string }).code).toBe(code);
  });

  it('answers unknown routes with 404 not_found in the common error body', async () => {
    const res = await fetch(`${svc.url}/v1/nothing-here`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
  });

  it('is healthy and ready', async () => {
    expect((await getJson(`${svc.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${svc.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ neo4j: 'up', migrations: 'applied' });
  });
});

describe('a group whose commit went through but whose answer was lost', () => {
  // CommitsTwice runs each transaction function a second time after its commit, as the
  // driver does when the connection dies before the commit's answer: the same function,
  // so the same token, in a second transaction.
  const at = Date.parse(T);
  const unkeyed = (n: number, accountId: string): CleanEvent[] =>
    Array.from({ length: n }, (_, i) => ({
      type: 'request',
      accountId,
      at: at + i * 1000,
      ip: '10.66.0.1',
      model: 'model-lost',
      capability: 'lost-cap',
    }));
  const keyed = (ids: string[], accountId: string): CleanEvent[] =>
    ids.map((id, i) => ({ id, type: 'request', accountId, at: at + i * 1000 }));
  const markers = async () =>
    Number((await cypher('MATCH (b:IngestedBatch) RETURN count(b) AS n'))[0]!.n);
  const account = async (id: string) => {
    const [row] = await cypher(
      `MATCH (a:Account {id: $id})
       RETURN a.requests AS requests, a.hourCounts AS hourCounts,
              COLLECT { MATCH (a)-[r:CONNECTED_FROM|USED_MODEL|REQUESTED]->() RETURN r.count } AS counts`,
      { id },
    );
    return {
      requests: Number(row!.requests),
      hourCounts: (row!.hourCounts as unknown[]).map(Number),
      counts: (row!.counts as unknown[]).map(Number),
    };
  };

  it('writes its events once and answers the re-run as the first run', async () => {
    const twice = new CommitsTwice(neo4j.driver);
    const writer = new EventWriter(twice, svc.ctx.cypher);
    const before = await markers();
    const results = await writer.writeMany([
      [...unkeyed(3, 'lost:u'), ...keyed(['lost-1', 'lost-2'], 'lost:k')],
      [...unkeyed(1, 'lost:u'), ...keyed(['lost-1', 'lost-3'], 'lost:k')],
    ]);
    const [first, second] = twice.answers[0]!;
    expect(second).toEqual(first);
    expect(results).toEqual([
      { received: 5, written: 5, duplicates: 0 },
      { received: 3, written: 2, duplicates: 1 }, // lost-1 was the first batch's
    ]);
    // 4 events without an id: counted once, not folded and merged again by the re-run
    expect(await account('lost:u')).toEqual({
      requests: 4,
      hourCounts: [4],
      counts: [4, 4, 4],
    });
    expect((await account('lost:k')).requests).toBe(3);
    // one marker for the group, holding the counts it answered
    expect(await markers()).toBe(before + 1);
    const [marker] = await cypher(
      `MATCH (b:IngestedBatch) WITH b ORDER BY b.storedAt DESC LIMIT 1
       RETURN b.received AS received, b.written AS written`,
    );
    expect([marker!.received, marker!.written].map((l) => (l as unknown[]).map(Number))).toEqual([
      [5, 3],
      [5, 2],
    ]);
  });

  it('is the same through group commit (REST), for a batch alone', async () => {
    const twice = new CommitsTwice(neo4j.driver);
    const commit = new GroupCommit(new EventWriter(twice, svc.ctx.cypher), {
      maxEvents: 100,
      maxInFlight: 1,
    });
    const answer = await commit.write([...unkeyed(2, 'lost:g'), ...keyed(['lost-g-1'], 'lost:g')]);
    expect(answer).toEqual({ received: 3, written: 3, duplicates: 0 });
    expect(twice.answers.map(([a, b]) => [a, b])).toEqual([[[answer], [answer]]]);
    expect((await account('lost:g')).requests).toBe(3);
    // a new write of the same events is a new group: the keyed one is a duplicate now
    expect(await commit.write([...unkeyed(2, 'lost:g'), ...keyed(['lost-g-1'], 'lost:g')])).toEqual(
      { received: 3, written: 2, duplicates: 1 },
    );
    expect((await account('lost:g')).requests).toBe(5);
  });

  it('a group that committed but whose every answer was an error is answered from its marker, not written again batch by batch', async () => {
    // Review, 12-04: a database restarting answers the driver's re-runs "busy"; the group
    // then fell back to writing each batch alone, and counted its events twice.
    let writes = 0;
    class GroupAnswerLost extends Database {
      override async write<T>(work: (tx: ManagedTransaction) => Promise<T>): Promise<T> {
        const value = await super.write(work);
        if (++writes === 2) throw new AppError('database_busy', 'Neo4j is busy (injected)');
        return value;
      }
    }
    const commit = new GroupCommit(
      new EventWriter(new GroupAnswerLost(neo4j.driver), svc.ctx.cypher),
      { maxEvents: 100, maxInFlight: 1 },
    );
    const alone = commit.write(unkeyed(1, 'lost:alone')); // in flight: the next two group
    const grouped = [
      commit.write([...unkeyed(2, 'lost:grp'), ...keyed(['lost-grp-1'], 'lost:grpk')]),
      commit.write([...unkeyed(3, 'lost:grp'), ...keyed(['lost-grp-1'], 'lost:grpk')]),
    ];
    await alone;
    expect(await Promise.all(grouped)).toEqual([
      { received: 3, written: 3, duplicates: 0 },
      { received: 4, written: 3, duplicates: 1 },
    ]);
    // the lone batch, the group, its marker read (a write session: the leader answers),
    // and no batch written alone after it
    expect(writes).toBe(3);
    expect((await account('lost:grp')).requests).toBe(5);
    expect((await account('lost:grpk')).requests).toBe(1);
  });
});

describe('Idempotency-Key', () => {
  const unkeyed = (accountId: string, n = 2) =>
    Array.from({ length: n }, (_, i) => ({
      type: 'request',
      accountId,
      at: `2026-02-01T10:0${i}:00Z`,
      ip: '10.77.0.1',
    }));
  const requests = async (id: string) =>
    Number((await cypher('MATCH (a:Account {id: $id}) RETURN a.requests AS n', { id }))[0]?.n ?? 0);

  it('answers a resend under the same key with the first counts and writes nothing, events without ids included', async () => {
    // Review, 12-04: a batch without event ids resent after a 503 whose commit had gone
    // through was counted twice; only ids made a resend safe.
    const events = unkeyed('ik:a');
    const first = await send(events, 'batch-0001');
    expect(first).toEqual({
      status: 200,
      body: { received: 2, new: 2, duplicates: 0 },
      replayed: null,
    });
    const again = await send(events, 'batch-0001');
    expect(again).toEqual({ ...first, replayed: 'true' });
    expect(await requests('ik:a')).toBe(2);
    // another key, or none, is another batch
    expect((await send(events, 'batch-0002')).body.new).toBe(2);
    expect((await send(events)).body.new).toBe(2);
    expect(await requests('ik:a')).toBe(6);
    // one marker per key, holding what it answered
    const [marker] = await cypher(
      `MATCH (k:IngestedBatchKey) WITH k ORDER BY k.storedAt DESC LIMIT 2
       RETURN count(*) AS n, collect(k.written) AS written`,
    );
    expect([Number(marker!.n), (marker!.written as unknown[][]).map((w) => w.map(Number))]).toEqual(
      [2, [[2], [2]]],
    );
  });

  it('refuses another batch under a key already used (422), writing nothing', async () => {
    await send(unkeyed('ik:b'), 'batch-b');
    const refusedBefore = await eventsCounted('refused');
    const other = await send(unkeyed('ik:b', 1), 'batch-b');
    expect([other.status, (other.body.error as { code: string }).code]).toEqual([
      422,
      'idempotency_key_reused',
    ]);
    // counted on /metrics as refused (review, 12-05: counted nowhere)
    expect(await eventsCounted('refused')).toBe(refusedBefore + 1);
    expect(await requests('ik:b')).toBe(2);
    // the same batch again is still its replay
    expect((await send(unkeyed('ik:b'), 'batch-b')).replayed).toBe('true');
  });

  it('refuses a header that is not a key (400), writing nothing', async () => {
    for (const key of ['', 'with space', 'x'.repeat(256)]) {
      const res = await send(unkeyed('ik:c'), key);
      expect([key, res.status, (res.body.error as { code: string }).code]).toEqual([
        key,
        400,
        'validation_failed',
      ]);
    }
    expect(await requests('ik:c')).toBe(0);
  });

  it('counts a batch sent twice at once under one key exactly once, by two service instances', async () => {
    const events = unkeyed('ik:d');
    // Both wait: the first on this test's lock on the account, the second on the first's
    // uncommitted key. Then the first commits and the second finds its marker.
    const [a, b] = await sentByTwoInstances(
      "MERGE (a:Account {id: 'ik:d'}) SET a.held = true",
      (url) => send(events, 'batch-d', url),
    );
    expect([a.status, b.status]).toEqual([200, 200]);
    expect([a.body, b.body]).toEqual([
      { received: 2, new: 2, duplicates: 0 },
      { received: 2, new: 2, duplicates: 0 },
    ]);
    expect([a.replayed, b.replayed].sort()).toEqual(['true', null].sort());
    expect(await requests('ik:d')).toBe(2);
  });

  it("answers the driver's re-run of its own commit as that commit, not as a replay", async () => {
    const twice = new CommitsTwice(neo4j.driver);
    const writer = new EventWriter(twice, svc.ctx.cypher);
    const events: CleanEvent[] = [{ type: 'request', accountId: 'ik:e', at: Date.parse(T) }];
    const batchKey = { key: 'ik-e-key', digest: 'ik-e-digest' };
    const [result] = await writer.writeMany([events], undefined, 'ik-e-token', batchKey);
    expect(result).toEqual({ received: 1, written: 1, duplicates: 0 });
    expect(twice.answers[0]![1]).toEqual([result]);
    expect(await requests('ik:e')).toBe(1);
    // its marker read after a failed answer is the same; under another token, a replay
    expect(await writer.committed('ik-e-token', batchKey)).toEqual([result]);
    expect(await writer.committed('another', batchKey)).toEqual([{ ...result, replayed: true }]);
    expect(await writer.committed('another', { ...batchKey, digest: 'x' })).toBeUndefined();
  });
});

describe('idempotency key retention', () => {
  const DAY = 86_400_000;
  const keyed = (ids: string[]) => ({
    events: ids.map((id) => ({ id, type: 'request', accountId: 'ret:erin', at: T })),
  });
  /** Moves the keys' storedAt back by `days`, as if they had been stored then. */
  const age = (ids: string[], days: number) =>
    cypher('MATCH (e:IngestedEvent) WHERE e.id IN $ids SET e.storedAt = e.storedAt - $ms', {
      ids,
      ms: days * DAY,
    });
  const stored = async (prefix: string) =>
    (
      await cypher(
        'MATCH (e:IngestedEvent) WHERE e.id STARTS WITH $prefix RETURN e.id AS id ORDER BY id',
        { prefix },
      )
    ).map((r) => r.id);
  const retention = (days: number, metrics = new Metrics()) =>
    startEventIdRetention({
      ...svc.ctx,
      config: { ...svc.ctx.config, INGEST_EVENT_ID_RETENTION_DAYS: Number(days) },
      metrics,
    });

  it('deletes keys older than the retention at start-up, keeps newer ones, and a late resend counts as new', async () => {
    const ids = ['ret-a-1', 'ret-a-2', 'ret-a-3'];
    expect((await postJson(`${svc.url}/v1/events`, keyed(ids))).body.new).toBe(3);
    await age(['ret-a-1', 'ret-a-2'], 31);
    await age(['ret-a-3'], 29);

    const metrics = new Metrics();
    const job = retention(30, metrics);
    await job.stop(); // waits for the prune that start-up began
    expect(await stored('ret-a-')).toEqual(['ret-a-3']);
    expect((await metrics.eventIdsPruned.get()).values[0]?.value).toBe(2);
    expect(svc.logs.join('')).toMatch(/"deleted":2[,}].*"msg":"event ids pruned"/);

    // the pruned key is forgotten: its resend is written again; the kept one is not
    expect((await postJson(`${svc.url}/v1/events`, keyed(['ret-a-1', 'ret-a-3']))).body).toEqual({
      received: 2,
      new: 1,
      duplicates: 1,
    });
    const [row] = await cypher('MATCH (a:Account {id: "ret:erin"}) RETURN a.requests AS n');
    expect(Number(row!.n)).toBe(4);
  });

  it('keeps every key when the retention is 0', async () => {
    await postJson(`${svc.url}/v1/events`, keyed(['ret-b-1']));
    await age(['ret-b-1'], 10_000);
    const job = retention(0);
    expect(await job.prune()).toBe(0);
    await job.stop();
    expect(await stored('ret-b-')).toEqual(['ret-b-1']);
  });

  it('prunes batch keys (Idempotency-Key) with the events’ keys; a resend after that is new', async () => {
    const since = Date.now();
    const events = [{ type: 'request', accountId: 'ret:bk', at: T }];
    expect((await send(events, 'ret-bk')).body.new).toBe(1);
    const marker = `MATCH (k:IngestedBatchKey) WHERE k.storedAt >= $since`;
    await cypher(`${marker} SET k.storedAt = k.storedAt - $ms`, { since, ms: 31 * DAY });
    const kept = retention(0); // keys kept for ever: batch keys too
    await kept.stop();
    expect((await send(events, 'ret-bk')).replayed).toBe('true');
    const job = retention(30);
    await job.prune(); // start-up's (stop() now would end it before the batch keys)
    await job.stop();
    expect(svc.logs.join('')).toMatch(/"keys":1[,}].*"msg":"batch keys pruned"/);
    const late = await send(events, 'ret-bk');
    expect([late.body.new, late.replayed]).toEqual([1, null]);
    const [row] = await cypher('MATCH (a:Account {id: "ret:bk"}) RETURN a.requests AS n');
    expect(Number(row!.n)).toBe(2);
  });

  it('prunes oldest first in batches until none is left, and stops between batches when asked', async () => {
    // keys other tests left old (ret-b-1) would be pruned first
    await cypher('MATCH (e:IngestedEvent) WHERE e.storedAt < $t DELETE e', { t: Date.now() - DAY });
    const ids = Array.from({ length: 7 }, (_, i) => `ret-c-${i}`);
    await postJson(`${svc.url}/v1/events`, keyed(ids));
    for (const [i, id] of ids.entries()) await age([id], 100 + i); // ret-c-6 is the oldest
    const before = Date.now() - 50 * DAY;
    let batches = 0;
    const stopAfterTwo = () => batches++ >= 2;
    expect(
      await pruneEventIds(svc.ctx.db, svc.ctx.cypher, before, { batch: 2, stopped: stopAfterTwo }),
    ).toBe(4);
    expect(await stored('ret-c-')).toEqual(['ret-c-0', 'ret-c-1', 'ret-c-2']);
    expect(await pruneEventIds(svc.ctx.db, svc.ctx.cypher, before, { batch: 2 })).toBe(3);
    expect(await stored('ret-c-')).toEqual([]);
  });

  it('prunes write markers after an hour, whatever the keys’ retention, oldest first, in batches', async () => {
    const now = Date.now();
    const MINUTE = 60_000;
    const tokens = async () =>
      (
        await cypher(
          "MATCH (b:IngestedBatch) WHERE b.token STARTS WITH 'ret-m-' RETURN b.token AS t ORDER BY t",
        )
      ).map((r) => r.t);
    // markers as old as their name says (minutes), made here so their ages are known
    const markers = (rows: [string, number][]) =>
      cypher(
        `UNWIND $rows AS row
         CREATE (:IngestedBatch {token: row[0], storedAt: row[1], received: [1], written: [1]})`,
        { rows },
      );
    await markers([
      ['ret-m-90', now - 90 * MINUTE],
      ['ret-m-30', now - 30 * MINUTE],
    ]);
    const job = retention(30);
    await job.prune(); // start-up's prune (one at a time): keys, then markers
    await job.stop();
    expect(await tokens()).toEqual(['ret-m-30']);
    expect(svc.logs.join('')).toMatch(/"batches":1[,}].*"msg":"write markers pruned"/);

    // keys kept for ever (0) do not keep the markers
    await markers([['ret-m-91', now - 91 * MINUTE]]);
    const forever = retention(0);
    await forever.prune();
    await forever.stop();
    expect(await tokens()).toEqual(['ret-m-30']);
    await cypher("MATCH (b:IngestedBatch) WHERE b.token = 'ret-m-30' DELETE b");

    await cypher(`UNWIND $rows AS row CREATE (:IngestedBatch {token: row[0], storedAt: row[1]})`, {
      rows: [
        ['ret-m-102', now - 102 * DAY],
        ['ret-m-101', now - 101 * DAY],
        ['ret-m-100', now - 100 * DAY],
      ],
    });
    let batches = 0;
    const before = now - 50 * DAY;
    const stopAfterOne = () => batches++ >= 1;
    expect(
      await pruneIngestedBatches(svc.ctx.db, svc.ctx.cypher, before, {
        batch: 2,
        stopped: stopAfterOne,
      }),
    ).toBe(2);
    expect(await tokens()).toEqual(['ret-m-100']);
    expect(await pruneIngestedBatches(svc.ctx.db, svc.ctx.cypher, before, { batch: 2 })).toBe(1);
    expect(await tokens()).toEqual([]);
  });

  it('prunes the audit entries of investigations and queries past AUDIT_QUERY_RETENTION_DAYS, never those of verdicts or allow-list changes', async () => {
    const now = Date.now();
    // entries as old as their name says (days), with the actions the trail holds
    const rows = [
      ['ret-au-q40', 'cypher', 40],
      ['ret-au-i40', 'investigation', 40],
      ['ret-au-q20', 'cypher', 20],
      ['ret-au-v40', 'verdict', 40],
      ['ret-au-a40', 'allowlist_add', 40],
      ['ret-au-d40', 'allowlist_delete', 40],
    ].map(([id, action, days]) => [id, action, now - Number(days) * DAY]);
    await cypher(
      `UNWIND $rows AS row
       CREATE (:AuditEntry {id: row[0], action: row[1], at: row[2], actor: 'ret', outcome: 'ok'})`,
      { rows },
    );
    const left = async () =>
      (
        await cypher(
          "MATCH (e:AuditEntry) WHERE e.id STARTS WITH 'ret-au-' RETURN e.id AS id ORDER BY id",
        )
      ).map((r) => r.id);
    const all = rows.map((r) => r[0]).sort();
    const job = (auditDays: number) =>
      startEventIdRetention({
        ...svc.ctx,
        config: { ...svc.ctx.config, AUDIT_QUERY_RETENTION_DAYS: auditDays },
      });
    const kept = job(0); // the default: kept for ever
    await kept.prune();
    await kept.stop();
    expect(await left()).toEqual(all);

    const pruning = job(30);
    await pruning.prune(); // start-up's: keys, markers, then the audit entries
    await pruning.stop();
    expect(await left()).toEqual(all.filter((id) => id !== 'ret-au-q40' && id !== 'ret-au-i40'));
    expect(svc.logs.join('')).toMatch(/"entries":2[,}].*"msg":"audit entries of queries pruned"/);
    // the trail still reads, newest first, without them
    const trail = await getJson(`${svc.url}/v1/audit?limit=1000`);
    const ids = (trail.body.entries as { id: string }[]).map((e) => e.id);
    expect(ids).toEqual(expect.arrayContaining(['ret-au-q20', 'ret-au-v40']));
    expect(ids).not.toContain('ret-au-q40');
  });
});

it("answers 503, not 500, while Neo4j refuses the service's password (rotated under it)", async () => {
  // Review, 12-04: Neo4j's Unauthorized passed through as a 500 internal error.
  const db = openDatabase({ uri: neo4j.uri, user: neo4j.user, password: 'rotated-away' });
  const server = createApp({ ...svc.ctx, db }).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const res = await send(
      [{ type: 'signup', accountId: 'pw:x', at: T }],
      undefined,
      `http://127.0.0.1:${port}`,
    );
    expect([res.status, (res.body.error as { code: string }).code]).toEqual([
      503,
      'database_unavailable',
    ]);
  } finally {
    server.close();
    await db.close();
  }
});

describe('auth on ingest', () => {
  let secured: TestService;
  beforeAll(async () => {
    secured = await startService(neo4j, {
      API_KEYS: `pipeline:ingest:${hashKey('ingest-secret')},alice:analyst:${hashKey('analyst-secret')}`,
    });
  });
  afterAll(() => secured.stop());

  const batch = { events: [{ type: 'signup', accountId: 'auth:x', at: T }] };
  it('needs a key', async () => {
    const res = await postJson(`${secured.url}/v1/events`, batch);
    expect([res.status, (res.body.error as { code: string }).code]).toEqual([
      401,
      'unauthenticated',
    ]);
    const wrong = await postJson(`${secured.url}/v1/events`, batch, {
      authorization: 'Bearer guess',
    });
    expect(wrong.status).toBe(401);
  });
  it('needs the ingest role', async () => {
    const res = await postJson(`${secured.url}/v1/events`, batch, {
      authorization: 'Bearer analyst-secret',
    });
    expect([res.status, (res.body.error as { code: string }).code]).toEqual([403, 'forbidden']);
    const ok = await postJson(`${secured.url}/v1/events`, batch, {
      authorization: 'Bearer ingest-secret',
    });
    expect(ok.status).toBe(200);
  });
  it('leaves health open', async () => {
    expect((await getJson(`${secured.url}/healthz`)).status).toBe(200);
  });
  it('logs one line per request with the caller, never a header or a key', async () => {
    const before = secured.logs.length;
    await getJson(`${secured.url}/healthz`);
    // a query it does not take: refused, and logged with its names, not its values nor
    // a name's text past 32 characters (review, 12-05: a prompt sent there was logged)
    const secret = 'Summarise the attached merger memo for the board';
    const long = 'p'.repeat(40);
    const refused = await postJson(
      `${secured.url}/v1/events?x=1&prompt=${encodeURIComponent(secret)}&${long}=1`,
      batch,
      { authorization: 'Bearer ingest-secret' },
    );
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).not.toContain(long);
    await postJson(`${secured.url}/v1/events`, batch, { authorization: 'Bearer guess' });
    const lines = secured.logs
      .slice(before)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === 'request');
    expect(lines).toEqual([
      expect.objectContaining({
        method: 'POST',
        url: '/v1/events?x&prompt&(1 other)',
        status: 400,
        caller: 'pipeline',
        ms: expect.any(Number),
      }),
      expect.objectContaining({ url: '/v1/events', status: 401 }),
    ]);
    expect(lines[1]).not.toHaveProperty('caller');
    const text = secured.logs.join('');
    expect(text).not.toMatch(/ingest-secret|guess|authorization|Bearer/i);
    expect(text).not.toContain('merger');
  });
});
