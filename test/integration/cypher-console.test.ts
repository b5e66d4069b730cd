/**
 * POST /v1/cypher against a real Neo4j: reads with parameters and converted values,
 * every kind of write refused with 403 write_not_allowed and the graph unchanged,
 * commands and procedures that reach the server (other sessions' transactions,
 * settings) refused, the database's own refusal mapped to the same code, bad queries, row cap,
 * timeout, roles, audit (a query is in the trail from its start); a query past the
 * transaction memory limit (422, Neo4j stays up).
 */
import neo4jDriver from 'neo4j-driver';
import { executeQuery } from '../../src/cypher-console/execute';
import { mapQueryError } from '../../src/cypher-console/service';
import { AuditLog } from '../../src/platform/audit';
import { AppError } from '../../src/platform/errors';
import { QueryWorkers } from '../../src/cypher-console/query-workers';
import { createLogger } from '../../src/platform/logger';
import { Database, int, openDatabase } from '../../src/platform/neo4j';
import { startTestNeo4j, type TestNeo4j } from '../support/neo4j';
import { postJson, startService, type TestService } from '../support/service';
import { API_KEYS, auth, getJson, ingestWorld } from '../support/analyst-fixtures';

/** Fails with a label instead of hanging until the test timeout. */
async function step<T>(label: string, work: Promise<T>, ms = 20_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label}: no answer in ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Collects 100,000-character strings ($s is 10,000) until memory runs out. */
const HOG =
  "WITH reduce(b = '', i IN range(1, 10) | b + $s) AS big " +
  'UNWIND range(1, 300000000) AS x RETURN size(collect(big + x)) AS n';

let neo4j: TestNeo4j;
let svc: TestService;

beforeAll(async () => {
  neo4j = await startTestNeo4j();
  svc = await startService(neo4j, {
    API_KEYS,
    QUERY_MAX_ROWS: '5',
    QUERY_MAX_BYTES: '4096',
    QUERY_MAX_CONCURRENT: '2',
    // 5 s: long enough that a refused write is refused, not timed out, on a loaded
    // machine (CI under load saw 504 at 1 s); the timeout tests wait that long.
    QUERY_TIMEOUT_MS: '5000',
  });
  await ingestWorld(svc.url);
  // One audited query first, so the AuditEntry label and property keys already exist
  // and the before/after comparisons below see only what a refused write could change.
  await postJson(`${svc.url}/v1/cypher`, { query: 'RETURN 1 AS one' }, auth('analyst'));
});

afterAll(async () => {
  await svc?.stop();
  await neo4j?.stop();
});

const cypher = (
  query: string,
  params?: unknown,
  role: 'analyst' | 'ingest' | 'admin' = 'analyst',
) =>
  postJson(
    `${svc.url}/v1/cypher`,
    params === undefined ? { query } : { query, params },
    auth(role),
  );

/**
 * `RETURN 1` once the analyst slots are free again: asked again while it is 429 (10 s at
 * most), as a slot held to its deadline is given back once Neo4j has ended its query.
 */
async function slotsFreeAgain() {
  const given = Date.now();
  let after = await cypher('RETURN 1 AS one');
  while (after.status === 429 && Date.now() - given < 10_000) {
    await new Promise((r) => setTimeout(r, 200));
    after = await cypher('RETURN 1 AS one');
  }
  return after;
}

/** Everything a write could touch: counts, labels, property keys, indexes, one property. */
async function fingerprint() {
  // One session, one read transaction: a consistent snapshot of everything a write could touch.
  const session = neo4j.driver.session({ defaultAccessMode: 'READ' });
  try {
    return await step(
      'fingerprint',
      session.executeRead(async (tx) => {
        const q = async (text: string) =>
          (await tx.run(text)).records.map((r) => JSON.stringify(r.toObject()));
        return {
          nodes: await q('MATCH (n) WHERE NOT n:AuditEntry RETURN count(n) AS n'),
          rels: await q('MATCH ()-[r]->() RETURN count(r) AS n'),
          labels: await q('CALL db.labels() YIELD label RETURN collect(label) AS l'),
          keys: await q(
            'CALL db.propertyKeys() YIELD propertyKey RETURN collect(propertyKey) AS k',
          ),
          indexes: await q('SHOW INDEXES YIELD name RETURN collect(name) AS i'),
          account: await q("MATCH (a:Account {id: 'ring:0'}) RETURN properties(a) AS p"),
        };
      }),
    );
  } finally {
    await session.close();
  }
}

describe('POST /v1/cypher', () => {
  it('runs a read with parameters and returns plain JSON rows', async () => {
    const res = await cypher(
      'MATCH (a:Account {id: $id})-[r:PAID_WITH]->(pm) RETURN a, r, pm.fingerprint AS pm, a.requests AS requests LIMIT $n',
      { id: 'ring:0', n: 10 },
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      columns: ['a', 'r', 'pm', 'requests'],
      rowCount: 1,
      truncated: false,
    });
    const [row] = res.body.rows as Record<string, unknown>[];
    expect(row).toMatchObject({
      pm: 'pm-ring',
      requests: 4,
      a: { labels: ['Account'], properties: { id: 'ring:0', requests: 4 } },
      r: { type: 'PAID_WITH', properties: { count: 1 } },
    });
  });

  it('caps rows', async () => {
    const res = await cypher('UNWIND range(1, 100) AS x RETURN x');
    expect(res.body).toMatchObject({ rowCount: 5, truncated: true });
    expect(res.body.rows).toEqual([{ x: 1 }, { x: 2 }, { x: 3 }, { x: 4 }, { x: 5 }]);
  });

  it('caps bytes: rows past QUERY_MAX_BYTES of JSON are cut, not built', async () => {
    // Each row carries a 1,500-character string: the third would pass 4,096 bytes.
    const res = await cypher(
      "UNWIND range(1, 100) AS i RETURN i, reduce(s = '', j IN range(1, 150) | s + '0123456789') AS x",
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ rowCount: 2, truncated: true });
    expect((res.body.rows as { i: number }[]).map((r) => r.i)).toEqual([1, 2]);
  });

  it('runs a query whose nested subquery only names a variable `load csv`', async () => {
    // Neo4j writes such a subquery into its operator's text in the plan, names as written
    // (string literals there are parameters: $autostring_0); before 5cd3d8b this was refused.
    const res = await cypher(
      'RETURN reduce(acc = [], x IN [1] | acc + COLLECT { WITH x AS `load csv` RETURN `load csv` * 2 AS s }) AS xs',
    );
    expect(res.status).toBe(200);
    expect(res.body.rows).toEqual([{ xs: [2] }]);
  });

  it('returns integers exactly: past 2^53 as strings, the rest as numbers', async () => {
    const res = await cypher(
      'RETURN 9007199254740993 AS big, -9223372036854775808 AS min, 42 AS small, [9007199254740993, 1] AS list',
    );
    expect(res.status).toBe(200);
    expect(res.body.rows).toEqual([
      {
        big: '9007199254740993',
        min: '-9223372036854775808',
        small: 42,
        list: ['9007199254740993', 1],
      },
    ]);
  });

  it('returns NaN and ±Infinity as strings and a byte array as its bytes, not null or {"0": …}', async () => {
    const res = await cypher(
      'RETURN 0.0 / 0.0 AS nan, 1.0 / 0.0 AS inf, -1.0 / 0.0 AS ninf, 1.5 AS x',
    );
    expect(res.status).toBe(200);
    expect(res.body.rows).toEqual([{ nan: 'NaN', inf: 'Infinity', ninf: '-Infinity', x: 1.5 }]);

    // The service stores no bytes; a graph written by other tools may hold them.
    await neo4j.driver.executeQuery('CREATE (:BytesProbe {b: $b})', {
      b: Int8Array.from([1, -2, 127]),
    });
    try {
      const bytes = await cypher('MATCH (p:BytesProbe) RETURN p.b AS b');
      expect(bytes.status).toBe(200);
      expect(bytes.body.rows).toEqual([{ b: [1, -2, 127] }]);
    } finally {
      await neo4j.driver.executeQuery('MATCH (p:BytesProbe) DELETE p');
    }
  });

  it('429 too_many_queries past QUERY_MAX_CONCURRENT running at once', async () => {
    // Three queries that each run until the 5 s limit: two hold the slots, the third is refused.
    const slow = 'UNWIND range(1, 1000000000) AS x WITH x WHERE x = -4 RETURN count(*) AS n';
    const answers = await Promise.all([cypher(slow), cypher(slow), cypher(slow)]);
    expect(answers.map((a) => a.status).sort()).toEqual([429, 504, 504]);
    const refused = answers.find((a) => a.status === 429);
    expect(refused?.body).toMatchObject({ error: { code: 'too_many_queries' } });
    // Audited, the refused one once: recorded as refused, never started (no endedAt).
    const audited = await neo4j.driver.executeQuery(
      "MATCH (e:AuditEntry {action: 'cypher'}) WHERE e.params CONTAINS $q RETURN e.outcome AS outcome, e.endedAt IS NULL AS once ORDER BY outcome",
      { q: JSON.stringify(slow) },
    );
    expect(audited.records.map((r) => [r.get('outcome'), r.get('once')])).toEqual([
      ['query_timeout', false],
      ['query_timeout', false],
      ['too_many_queries', true],
    ]);
    // The slots are free again: at once when Neo4j's limit ended the queries, within a
    // second or so when the service's deadline (7 s) came first on a loaded machine.
    expect(await slotsFreeAgain()).toMatchObject({ status: 200, body: { rows: [{ one: 1 }] } });
  });

  /** The audit record of a console query refused for too many at once, by `actor`. */
  const refusedQuery = (actor: string) => ({
    actor: { name: actor, role: 'analyst' as const },
    action: 'cypher' as const,
    target: 'adhoc',
    params: { query: 'RETURN "flood"' },
    outcome: 'too_many_queries',
  });

  it('refusals of one actor within the window share one stored entry that counts them; each has its log line', async () => {
    // Windows that close when this test says (the service's close after 10 s).
    const closers: { close: () => void; ms: number }[] = [];
    const audit = new AuditLog(
      new Database(neo4j.driver),
      svc.ctx.cypher,
      svc.ctx.logger,
      (close, ms) => closers.push({ close, ms }),
    );
    const entry = refusedQuery('flooder');
    const stored = async (actor: string) =>
      (
        await neo4j.driver.executeQuery(
          'MATCH (e:AuditEntry {actor: $actor}) RETURN e.repeats AS repeats ORDER BY e.at',
          { actor },
        )
      ).records.map((r) => r.get('repeats') as unknown);
    const logsBefore = svc.logs.length;
    const windowMs = 3_000;
    await Promise.all(Array.from({ length: 6 }, () => audit.refused(entry, windowMs)));
    await audit.refused({ ...entry, actor: { name: 'bystander', role: 'analyst' } }, windowMs);
    // One window each, of the length asked for, and both still open.
    expect(closers.map((c) => c.ms)).toEqual([windowMs, windowMs]);
    // One node; not yet counted while the window is open.
    expect(await stored('flooder')).toEqual([null]);
    for (const { close } of closers.splice(0)) close();
    for (const until = Date.now() + 30_000; Date.now() < until;) {
      if (Number((await stored('flooder'))[0]) === 5) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await stored('flooder')).map(Number)).toEqual([5]);
    expect(await stored('bystander')).toEqual([null]);
    const trail = await getJson(`${svc.url}/v1/audit?action=cypher&limit=50`, auth('admin'));
    expect(
      (trail.body.entries as { actor: string; repeats?: number }[])
        .filter((e) => e.actor === 'flooder')
        .map((e) => e.repeats),
    ).toEqual([5]);
    const lines = svc.logs
      .slice(logsBefore)
      .filter((l) => l.includes('"audit":true') && l.includes('"actor":"flooder"'));
    expect(lines).toHaveLength(6);
    expect(lines.filter((l) => l.includes('"repeatOf"'))).toHaveLength(5);
    // a refusal after the window is stored again
    await audit.refused(entry, windowMs);
    expect(await stored('flooder')).toHaveLength(2);
  });

  it('a refusal window still open at shutdown is counted before the driver closes (review, 12-05)', async () => {
    // Its timer would fire after the process had exited: the count was lost.
    const db = openDatabase({ uri: neo4j.uri, user: neo4j.user, password: neo4j.password });
    const audit = new AuditLog(db, svc.ctx.cypher, svc.ctx.logger, () => undefined); // never closes
    const entry = refusedQuery('flooder-at-stop');
    for (let i = 0; i < 4; i++) await audit.refused(entry);
    await db.close();
    const rows = await neo4j.driver.executeQuery(
      "MATCH (e:AuditEntry {actor: 'flooder-at-stop'}) RETURN e.repeats AS repeats",
    );
    expect(rows.records.map((r) => Number(r.get('repeats')))).toEqual([3]);
  });

  it('400 for params nested too deep or too large, before anything runs or is audited', async () => {
    let deep: unknown = 1;
    for (let i = 0; i < 9; i++) deep = [deep];
    // Deeper than JSON.stringify can walk: sent as text.
    const deepest = `{"query":"RETURN 'params-limit' AS tag","params":{"p":${'['.repeat(5000)}1${']'.repeat(5000)}}}`;
    for (const body of [
      { query: "RETURN 'params-limit' AS tag", params: { deep } },
      deepest,
      { query: "RETURN 'params-limit' AS tag", params: { big: 'x'.repeat(70_000) } },
    ]) {
      const res = await postJson(`${svc.url}/v1/cypher`, body, auth('analyst'));
      expect(res).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
    }
    // Eight levels are fine.
    let ok: unknown = 1;
    for (let i = 0; i < 7; i++) ok = [ok];
    expect((await cypher('RETURN size($ok) AS n', { ok })).body.rows).toEqual([{ n: 1 }]);
    const audited = await neo4j.driver.executeQuery(
      "MATCH (e:AuditEntry) WHERE e.params CONTAINS 'params-limit' RETURN count(e) AS n",
    );
    expect(audited.records[0]?.get('n').toNumber()).toBe(0);
  });

  const WRITES: [string, string, Record<string, unknown>?][] = [
    ['CREATE', 'CREATE (n:Hacked {x: 1}) RETURN n'],
    ['MERGE', "MERGE (n:Account {id: 'ring:0'}) ON MATCH SET n.hacked = true RETURN n"],
    ['SET', "MATCH (a:Account {id: 'ring:0'}) SET a.requests = 0 RETURN a"],
    ['REMOVE', "MATCH (a:Account {id: 'ring:0'}) REMOVE a.requests RETURN a"],
    ['DELETE', 'MATCH (a:Account) DETACH DELETE a'],
    ['DELETE relationships', 'MATCH ()-[r:PAID_WITH]->() DELETE r'],
    ['FOREACH', 'FOREACH (x IN [1] | CREATE (:Hacked))'],
    ['CALL subquery', 'CALL { CREATE (:Hacked) } RETURN 1 AS one'],
    ['writing procedure', "CALL db.createLabel('Hacked')"],
    ['writing procedure (property key)', "CALL db.createProperty('hackedKey')"],
    ['schema', 'CREATE INDEX hacked IF NOT EXISTS FOR (n:Hacked) ON (n.x)'],
    ['LOAD CSV', "LOAD CSV FROM 'file:///etc/passwd' AS line RETURN line"],
    [
      'LOAD CSV with a parameter',
      'LOAD CSV WITH HEADERS FROM $url AS line RETURN line',
      {
        url: 'https://example.com/x.csv',
      },
    ],
    ['LOAD CSV lowercase', "load csv from 'file:///etc/hostname' as l return l"],
    // Nested in an expression it is no operator of its own, and U+001C is whitespace
    // to Cypher only (found by review on 12-02: this fetched the URL and returned it).
    [
      'LOAD CSV in a subquery expression',
      "RETURN CASE WHEN rand() > 2 THEN [] ELSE COLLECT { LOAD\u001cCSV FROM 'http://127.0.0.1:9/x.csv' AS l RETURN l } END AS x",
    ],
  ];

  it('refuses every kind of write with 403 write_not_allowed and changes nothing, not even a label or index', async () => {
    const before = await fingerprint();
    const outcomes: unknown[] = [];
    for (const [name, q, p] of WRITES) {
      const res = await step(q, cypher(q, p));
      outcomes.push([name, res.status, (res.body.error as { code?: string } | undefined)?.code]);
    }
    expect(outcomes).toEqual(WRITES.map(([name]) => [name, 403, 'write_not_allowed']));
    expect(await fingerprint()).toEqual(before);
    // nor a label, property key or index: a refused statement leaves no token behind
    const res = await step(
      'schema',
      neo4j.driver.executeQuery(
        `CALL db.labels() YIELD label WITH collect(label) AS labels
         CALL db.propertyKeys() YIELD propertyKey WITH labels, collect(propertyKey) AS keys
         RETURN 'Hacked' IN labels AS label, 'hackedKey' IN keys AS key`,
      ),
    );
    expect(res.records[0]?.toObject()).toEqual({ label: false, key: false });
    // db.labels() lists labels in use only; a label token with no node shows as a
    // planner warning that is absent once the token exists (the probe proves it)
    const unknownLabel = async (label: string) => {
      const plan = await step(
        `explain ${label}`,
        neo4j.driver.executeQuery(`EXPLAIN MATCH (n:${label}) RETURN n`),
      );
      return plan.summary.notifications.some((n) => n.code.endsWith('UnknownLabelWarning'));
    };
    expect(await unknownLabel('Hacked')).toBe(true);
    expect(await unknownLabel('TokenProbe')).toBe(true);
    await step('probe', neo4j.driver.executeQuery("CALL db.createLabel('TokenProbe')"));
    expect(await unknownLabel('TokenProbe')).toBe(false);
    const indexes = await step('indexes', neo4j.driver.executeQuery('SHOW INDEXES YIELD name'));
    expect(indexes.records.map((r) => r.get('name'))).not.toContain('hacked');
  });

  const NOT_GRAPH_READS: [string, string, string][] = [
    [
      "other sessions' queries",
      'SHOW TRANSACTIONS YIELD transactionId, currentQuery, parameters RETURN *',
      'command',
    ],
    ['ending transactions', "TERMINATE TRANSACTIONS 'neo4j-transaction-1'", 'command'],
    ['server settings', 'SHOW SETTINGS', 'command'],
    ['a procedure that plans as a read', 'CALL db.prepareForReplanning()', 'procedure'],
    ['another', 'CALL db.resampleOutdatedIndexes()', 'procedure'],
    ['a DBMS procedure', 'CALL dbms.listConnections()', 'procedure'],
    ['the server version', 'CALL dbms.components()', 'procedure'],
    ['a writing procedure', "CALL db.createLabel('Hacked')", 'procedure'],
    // Review, 12-07: each reads every relationship and its properties before a row.
    ['a schema listing that scans the store', 'CALL db.schema.relTypeProperties()', 'procedure'],
    ['another', 'CALL db.schema.nodeTypeProperties()', 'procedure'],
    [
      'one inside a subquery',
      'MATCH (a:Account) CALL { CALL db.info() YIELD id RETURN id } RETURN a LIMIT 1',
      'procedure',
    ],
    [
      'one in a subquery expression',
      'RETURN CASE WHEN rand() > 2 THEN 0 ELSE COUNT { CALL db.prepareForReplanning() } END AS x',
      'procedure',
    ],
    [
      'one in a list comprehension',
      'UNWIND [1, 2] AS i RETURN [x IN [1] | COLLECT { CALL db.info() YIELD id RETURN id }] AS y',
      'procedure',
    ],
    [
      'one spelt with spaces and backticks',
      'RETURN COUNT { CALL `db` . /* c */ info() YIELD id RETURN id } AS n',
      'procedure',
    ],
  ];

  it('refuses commands and procedures that read the server, not the graph', async () => {
    const outcomes: unknown[] = [];
    for (const [name, q] of NOT_GRAPH_READS) {
      const res = await step(q, cypher(q));
      const error = res.body.error as { code?: string; details?: { reason?: string } } | undefined;
      outcomes.push([name, res.status, error?.code, error?.details?.reason]);
    }
    expect(outcomes).toEqual(
      NOT_GRAPH_READS.map(([name, , reason]) => [name, 403, 'write_not_allowed', reason]),
    );
  });

  it("cannot see or end another session's open transaction", async () => {
    // A write in flight elsewhere (ingest, a publish, an audit write), as the service's
    // single database identity sees it.
    const session = neo4j.driver.session();
    const tx = session.beginTransaction({ metadata: { tag: 'in-flight' } });
    try {
      await tx.run("CREATE (:Inflight {secret: 'in-flight-param'})");
      const listed = await neo4j.driver.executeQuery(
        "SHOW TRANSACTIONS YIELD transactionId, metaData WHERE metaData.tag = 'in-flight' RETURN transactionId",
      );
      const ids = listed.records.map((r) => r.get('transactionId') as string);
      expect(ids).toHaveLength(1);
      const show = await cypher('SHOW TRANSACTIONS YIELD currentQuery RETURN currentQuery');
      expect(show).toMatchObject({ status: 403, body: { error: { code: 'write_not_allowed' } } });
      const end = await cypher('TERMINATE TRANSACTIONS $ids', { ids });
      expect(end).toMatchObject({ status: 403, body: { error: { code: 'write_not_allowed' } } });
      await tx.commit(); // still alive
    } finally {
      if (tx.isOpen()) await tx.rollback();
      await session.close();
    }
    const count = await neo4j.driver.executeQuery(
      'MATCH (n:Inflight) DETACH DELETE n RETURN count(*) AS n',
    );
    expect(count.records[0]?.get('n').toNumber()).toBe(1);
  });

  it('lets schema look-ups through: allow-listed procedures and listings', async () => {
    const labels = await cypher('CALL db.labels() YIELD label WHERE label = $l RETURN label', {
      l: 'Account',
    });
    expect(labels).toMatchObject({ status: 200, body: { rows: [{ label: 'Account' }] } });
    const indexes = await cypher('SHOW INDEXES YIELD name RETURN count(name) > 0 AS any');
    expect(indexes).toMatchObject({ status: 200, body: { rows: [{ any: true }] } });
    const nested = await cypher(
      "RETURN 'Account' IN COLLECT { CALL db.labels() YIELD label RETURN label } AS has",
    );
    expect(nested).toMatchObject({ status: 200, body: { rows: [{ has: true }] } });
    const spelt = await cypher(
      "RETURN 'Account' IN COLLECT { CALL `db` . labels() YIELD label RETURN label } AS has",
    );
    expect(spelt).toMatchObject({ status: 200, body: { rows: [{ has: true }] } });
  });

  it("maps the database's own refusal of a write in a read transaction to write_not_allowed", async () => {
    // Second line of defence, without the plan check: Neo4j itself refuses.
    const err = await svc.ctx.db
      .read((tx) => tx.run('CREATE (:Hacked) RETURN 1'))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect((err as { code: string }).code).toBe('Neo.ClientError.Statement.AccessMode');
    const mapped = mapQueryError(err);
    expect(mapped).toBeInstanceOf(AppError);
    expect((mapped as AppError).code).toBe('write_not_allowed');
    expect((mapped as AppError).status).toBe(403);
    const count = await neo4j.driver.executeQuery('MATCH (n:Hacked) RETURN count(n) AS n');
    expect(count.records[0]?.get('n').toNumber()).toBe(0);
  });

  it('400 for a bad query, a missing parameter, a bad body', async () => {
    const syntax = await cypher('MATCH (n RETURN n');
    expect(syntax).toMatchObject({
      status: 400,
      body: {
        error: {
          code: 'bad_request',
          details: { neo4jCode: 'Neo.ClientError.Statement.SyntaxError' },
        },
      },
    });
    // Positions in the analyst's own query, not in the EXPLAIN the plan check ran.
    const message = (syntax.body.error as { message: string }).message;
    expect(message).toContain('(line 1, column 10 (offset: 9))');
    expect(message).toContain('"MATCH (n RETURN n"');
    expect(message).not.toContain('EXPLAIN');
    expect(await cypher('MATCH (a:Account {id: $id}) RETURN a')).toMatchObject({
      status: 400,
      body: { error: { code: 'bad_request' } },
    });
    // Errors Neo4j files under DatabaseError though the query caused them (found by
    // review: 500 before)
    for (const [query, params] of [
      ['RETURN substring($s, -1) AS x', { s: 'abc' }],
      ['RETURN left($s, -1) AS x', { s: 'abc' }],
      [
        'MATCH (a:Account {id: $id}) MATCH p = shortestPath((a)-[*..3]-(a)) RETURN p',
        { id: 'ring:0' },
      ],
    ] as const) {
      expect(await cypher(query, params)).toMatchObject({
        status: 400,
        body: {
          error: {
            code: 'bad_request',
            details: { neo4jCode: 'Neo.DatabaseError.Statement.ExecutionFailed' },
          },
        },
      });
    }
    for (const body of [
      {},
      { query: '' },
      { query: 'RETURN 1', params: [1] },
      { query: 'RETURN 1', extra: 1 },
    ]) {
      const res = await postJson(`${svc.url}/v1/cypher`, body, auth('analyst'));
      expect(res).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
    }
  });

  it('504 query_timeout past the time limit', async () => {
    const res = await cypher(
      'UNWIND range(1, 1000000000) AS x WITH x WHERE x = -1 RETURN count(*) AS n',
    );
    expect(res).toMatchObject({ status: 504, body: { error: { code: 'query_timeout' } } });
  });

  // Found by review: Neo4j answers this in milliseconds, but the driver overflows its
  // stack decoding it and the connection stalls until the driver's receive timeout
  // (120 s), holding the query slot all along; then a misleading 503.
  const DEEP = 'RETURN reduce(l = [], i IN range(1, $n) | [l]) AS x';
  // Iterations of a reduce that takes Neo4j well past 3 s (~20 s here on 12-03).
  const RUNAWAY_N = 1_000_000_000;

  it('a result too deep for the driver to decode ends at the deadline with 504, and frees its slot', async () => {
    // Both slots taken by one at once: before the fix, every query after was 429 for 2 min.
    const answers = await step(
      'deep results',
      Promise.all([cypher(DEEP, { n: 20000 }), cypher(DEEP, { n: 20000 })]),
      30_000,
    );
    expect(answers.map((a) => [a.status, (a.body.error as { code?: string })?.code])).toEqual([
      [504, 'query_timeout'],
      [504, 'query_timeout'],
    ]);
    // The slots come back once Neo4j has ended the two transactions (their connections
    // closed at the deadline): within seconds, not the driver's 120 s.
    expect(await slotsFreeAgain()).toMatchObject({ status: 200, body: { rows: [{ one: 1 }] } });
    const saved = await step(
      'investigation',
      postJson(
        `${svc.url}/v1/investigations/signup-bursts`,
        { from: '2026-01-01T00:00:00Z', to: '2026-12-01T00:00:00Z' },
        auth('analyst'),
      ),
    );
    expect(saved.status).toBe(200);
  });

  it('a query given up on at the deadline keeps its slot until Neo4j has ended it', async () => {
    // An expression the time limit cannot stop (README, Known limits: Time) computes on
    // in Neo4j after its connection is closed; were its slot freed at the deadline, an
    // analyst could start any number of them. One slot here, a 1 s limit: the deadline
    // gives up at 3 s, and this expression runs several seconds longer.
    const one = await startService(neo4j, {
      API_KEYS,
      QUERY_MAX_CONCURRENT: '1',
      QUERY_TIMEOUT_MS: '1000',
    });
    const ask = (query: string, params?: unknown) =>
      postJson(`${one.url}/v1/cypher`, { query, params }, auth('analyst'));
    try {
      const started = Date.now();
      const runaway = await step(
        'runaway',
        ask('RETURN reduce(s = 0, x IN range(1, $n) | (s + x) % 1000) AS s', { n: RUNAWAY_N }),
      );
      expect(runaway).toMatchObject({ status: 504, body: { error: { code: 'query_timeout' } } });
      // Still computing in Neo4j: its slot is still taken.
      const meanwhile = await ask('RETURN 1 AS one');
      expect(meanwhile).toMatchObject({
        status: 429,
        body: { error: { code: 'too_many_queries' } },
      });
      // Freed once Neo4j no longer lists its transaction.
      let after = meanwhile;
      while (after.status === 429 && Date.now() - started < 120_000) {
        await new Promise((r) => setTimeout(r, 500));
        after = await ask('RETURN 1 AS one');
      }
      expect(after).toMatchObject({ status: 200, body: { rows: [{ one: 1 }] } });
    } finally {
      await one.stop();
    }
  }, 180_000);

  it('one key holds at most QUERY_MAX_CONCURRENT_PER_KEY slots; another key still runs', async () => {
    const shared = await startService(neo4j, {
      API_KEYS,
      QUERY_MAX_CONCURRENT: '3',
      QUERY_MAX_CONCURRENT_PER_KEY: '1',
      QUERY_TIMEOUT_MS: '2000',
    });
    const slow = 'UNWIND range(1, 1000000000) AS x WITH x WHERE x = -4 RETURN count(*) AS n';
    const ask = (role: 'analyst' | 'admin') =>
      postJson(`${shared.url}/v1/cypher`, { query: slow }, auth(role));
    try {
      const answers = await step(
        'two keys',
        Promise.all([ask('analyst'), ask('analyst'), ask('admin')]),
      );
      const codes = answers.map((a) => (a.body.error as { code: string } | undefined)?.code);
      // the analyst's second is refused for its key; the admin's runs to the time limit
      expect(codes.slice(0, 2).sort()).toEqual(['query_timeout', 'too_many_queries']);
      expect(codes[2]).toBe('query_timeout');
      const refused = answers.find((a) => a.status === 429);
      expect(refused?.body).toMatchObject({ error: { details: { scope: 'key', limit: 1 } } });
    } finally {
      await shared.stop();
    }
  }, 120_000);

  it('422 result_too_deep for a result the service cannot convert, not 500', async () => {
    const res = await step('mid depth', cypher(DEEP, { n: 3000 }));
    expect(res).toMatchObject({ status: 422, body: { error: { code: 'result_too_deep' } } });
    expect((await cypher('RETURN 1 AS one')).body.rows).toEqual([{ one: 1 }]);
  });

  // Security review, 12-04: the driver decodes a record whole; on the service's thread
  // `RETURN range(1, 5000000)` held its event loop for 25 s (no /healthz) and took 576
  // MiB (bench/query/huge-row.ts). Each query now runs in a worker thread.
  it("one huge row holds neither the service's event loop nor its heap: 504 at the deadline, or 422 past the worker's heap", async () => {
    let running = true;
    let longest = 0;
    const probe = (async () => {
      while (running) {
        const asked = Date.now();
        expect((await fetch(`${svc.url}/healthz`)).status).toBe(200);
        longest = Math.max(longest, Date.now() - asked);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    // 20M integers, ~100 MB on the wire: Neo4j (512 MiB heap here) sends it; the worker
    // decodes it past the deadline (504) or past its heap (422), never on the event loop.
    // A 100M-element row (until 12-06) ran Neo4j itself out of memory on a quiet machine,
    // and the next test's query with it.
    const res = await step('huge row', cypher('RETURN range(1, 20000000) AS r'), 30_000);
    running = false;
    await probe;
    const code = (res.body.error as { code?: string } | undefined)?.code;
    expect([res.status, code]).toEqual(
      res.status === 422 ? [422, 'result_too_large'] : [504, 'query_timeout'],
    );
    // Seconds on the service's own thread before; a loaded CI machine still answers fast.
    expect(longest).toBeLessThan(5_000);
  });

  it('422 result_too_large for a row past the query worker heap; the next query runs', async () => {
    const small = await startService(neo4j, { API_KEYS, QUERY_WORKER_HEAP_MB: '32' });
    try {
      const ask = (query: string) => postJson(`${small.url}/v1/cypher`, { query }, auth('analyst'));
      const res = await step('too large', ask('RETURN range(1, 5000000) AS r'), 30_000);
      expect(res).toMatchObject({ status: 422, body: { error: { code: 'result_too_large' } } });
      expect((await ask('RETURN 1 AS one')).body.rows).toEqual([{ one: 1 }]);
    } finally {
      await small.stop();
    }
  });

  it('400 for query text nested deeper than Neo4j can parse, before anything runs', async () => {
    // Found by review: Neo4j failed these with UnknownError or an "Ignored" error: 500.
    for (const query of [
      `RETURN ${'['.repeat(400)}${']'.repeat(400)} AS x`,
      `RETURN ${'NOT '.repeat(400)}true AS x`,
      `RETURN ${'('.repeat(400)}1${')'.repeat(400)} AS x`,
      `RETURN ${'CASE WHEN true THEN '.repeat(400)}1${' END'.repeat(400)} AS x`,
    ]) {
      const res = await step('nested', cypher(query));
      expect([res.status, (res.body.error as { code?: string })?.code]).toEqual([
        400,
        'validation_failed',
      ]);
    }
    // Nesting an analyst writes by hand still runs.
    const fine = await cypher(`RETURN ${'['.repeat(30)}1${']'.repeat(30)} IS NOT NULL AS x`);
    expect(fine).toMatchObject({ status: 200, body: { rows: [{ x: true }] } });
    const cases = await cypher(
      `WITH {end: 1} AS end RETURN ${'CASE WHEN true THEN '.repeat(30)}end.end${' END'.repeat(30)} AS x`,
    );
    expect(cases).toMatchObject({ status: 200, body: { rows: [{ x: 1 }] } });
  });

  it('400 for text whose planning blows up (XORs, long arithmetic, AND / OR nested in turn); the most allowed plans (review, 12-06)', async () => {
    // 24 XORs ran Neo4j out of heap (it died), 350 `+` overflowed its stack (a 500), and
    // AND / OR nested 64 deep planned for minutes.
    const xor = (n: number) => `WITH true AS x RETURN x${' XOR x'.repeat(n)} AS y`;
    const sum = (n: number) => `WITH 1 AS x RETURN x${'+x'.repeat(n)} AS y`;
    const alternating = (n: number) =>
      `MATCH (a:Account) WHERE ${Array.from({ length: n }, (_, i) => `(a.x = ${i} ${i % 2 ? 'AND' : 'OR'} `).join('')}true${')'.repeat(n)} RETURN count(a) AS n`;
    const mixed = `WITH 1 AS x RETURN x${'+x-x'.repeat(200)} AS y`; // overflowed too
    // Review, 12-07: so did 300 lookups or indexes in a row, and 150 lookups then 150 `+`.
    const lookups = (n: number) => `WITH {a: null} AS m RETURN m${'.a'.repeat(n)} AS y`;
    const indexes = `WITH [] AS l RETURN l${'[0]'.repeat(300)} AS y`;
    const both = `WITH {a: null} AS m, 1 AS x RETURN m${'.a'.repeat(150)}${'+x'.repeat(150)} AS y`;
    for (const query of [xor(24), sum(350), mixed, alternating(64), lookups(300), indexes, both]) {
      const res = await step('refused', cypher(query));
      expect([res.status, (res.body.error as { code?: string })?.code]).toEqual([
        400,
        'validation_failed',
      ]);
    }
    const started = Date.now();
    // nine trues XORed
    expect(await step('xor', cypher(xor(8)))).toMatchObject({
      status: 200,
      body: { rows: [{ y: true }] },
    });
    expect(await step('sum', cypher(sum(200)))).toMatchObject({
      status: 200,
      body: { rows: [{ y: 201 }] },
    });
    expect(await step('nested', cypher(alternating(32)))).toMatchObject({ status: 200 });
    expect(await step('lookups', cypher(lookups(200)))).toMatchObject({
      status: 200,
      body: { rows: [{ y: null }] },
    });
    expect(Date.now() - started).toBeLessThan(30_000);
    expect((await cypher('RETURN 1 AS one')).body.rows).toEqual([{ one: 1 }]);
  });

  it('400 for CALL { … } IN TRANSACTIONS, which a read transaction cannot run', async () => {
    // Found by review: Neo.DatabaseError.Transaction.TransactionStartFailed, a 500.
    // Review, 12-05: a concurrency written as an expression, `(2)`, passed the text check.
    for (const query of [
      'UNWIND [1] AS x CALL (x) { RETURN x AS y } IN TRANSACTIONS RETURN y',
      'CALL { RETURN 1 AS y } IN (2) CONCURRENT TRANSACTIONS RETURN y',
    ]) {
      const res = await cypher(query);
      expect([query, res]).toMatchObject([
        query,
        {
          status: 400,
          body: { error: { code: 'bad_request', details: { reason: 'in_transactions' } } },
        },
      ]);
    }
  });

  it('403 for USE: an analyst reads the configured database only', async () => {
    // Found by review: USE was ignored; on Enterprise another database could be read.
    for (const query of [
      'USE neo4j MATCH (n) RETURN count(n) AS c',
      'CALL { USE neo4j RETURN 1 AS one } RETURN one',
    ]) {
      const res = await cypher(query);
      expect(res).toMatchObject({
        status: 403,
        body: { error: { code: 'write_not_allowed', details: { reason: 'use' } } },
      });
    }
    // A variable called use is no clause.
    const named = await cypher('WITH 1 AS use RETURN use AS x');
    expect(named).toMatchObject({ status: 200, body: { rows: [{ x: 1 }] } });
    // The unit tests' premise about names (review, 12-07): Neo4j reads `a` and one of these
    // unquoted as one name, the one quoted before it; the guard does too (no refusal). A
    // letter beyond the BMP is no name's to Neo4j 5.26: such a query fails to parse.
    for (const c of ['\u00ad', '\u200b', '\ufeff', '\u180e', '\u0001', '\u00a3']) {
      const one = await cypher(`WITH 1 AS \`a${c}\` RETURN a${c} AS x`);
      expect([c, one.status, one.body.rows]).toEqual([c, 200, [{ x: 1 }]]);
    }
  });

  it('400 for any \\uXXXX escape: Neo4j decodes them before it parses, where the text checks did not', async () => {
    // Security review, 12-04: `U\u0053E` is USE to Neo4j, and got past the USE check.
    for (const query of [
      'U\\u0053E neo4j MATCH (n) RETURN count(n) AS c',
      // refused before Neo4j reads it (this Neo4j's parser calls it a syntax error)
      'U\\u+053E neo4j MATCH (n) RETURN count(n) AS c',
      'UNWIND [1] AS x CALL (x) { RETURN x AS y } I\\u004E TRANSACTIONS RETURN y',
      "RETURN 'caf\\u00e9' AS s", // refused too: such text goes in a parameter
    ]) {
      const res = await cypher(query);
      expect([query, res.status, res.body.error]).toEqual([
        query,
        400,
        expect.objectContaining({ code: 'bad_request', details: { reason: 'unicode_escape' } }),
      ]);
    }
    const param = await cypher('RETURN $s AS s', { s: 'café' });
    expect(param).toMatchObject({ status: 200, body: { rows: [{ s: 'café' }] } });
  });

  it('422 query_memory_limit past db.memory.transaction.max; Neo4j and the service stay up', async () => {
    // Collects strings of ~100,000 characters until the 256 MiB one transaction may use
    // (half the 512m heap tests give Neo4j) are taken: a few thousand rows. Through a
    // service with a 60 s limit, so a starved JVM answers 422 late rather than 504.
    // Without the per-transaction limit it fills the total of all transactions instead:
    // 503 database_busy, as if Neo4j were busy.
    const patient = await startService(neo4j, { API_KEYS, QUERY_TIMEOUT_MS: '60000' });
    let res: Awaited<ReturnType<typeof postJson>>;
    try {
      res = await step(
        'memory',
        postJson(
          `${patient.url}/v1/cypher`,
          { query: HOG, params: { s: '0123456789'.repeat(1000) } },
          auth('analyst'),
        ),
      );
    } finally {
      await patient.stop();
    }
    expect(res).toMatchObject({ status: 422, body: { error: { code: 'query_memory_limit' } } });
    expect((res.body.error as { message: string }).message).toMatch(
      /more memory than one transaction may use/,
    );
    // Neo4j's own text is in the log, not in the body.
    expect(JSON.stringify(res.body)).not.toContain('threshold reached');
    expect(patient.logs.join('')).toContain('db.memory.transaction.max threshold reached');
    // The launcher sizes the limits from the heap (512m in tests): half for one
    // transaction, 70 % for all of them.
    const settings = await neo4j.driver.executeQuery(
      "SHOW SETTINGS YIELD name, value WHERE name IN ['db.memory.transaction.max', 'dbms.memory.transaction.total.max'] RETURN name, value ORDER BY name",
    );
    const limits = Object.fromEntries(
      settings.records.map((r) => [r.get('name') as string, r.get('value') as string]),
    );
    expect(limits['db.memory.transaction.max']).toMatch(/^256\.\d+MiB$/);
    expect(limits['dbms.memory.transaction.total.max']).toMatch(/^358\.\d+MiB$/);
    expect(await getJson(`${svc.url}/readyz`)).toMatchObject({ status: 200 });
    expect((await cypher('RETURN 1 AS one')).body.rows).toEqual([{ one: 1 }]);
  });

  it("the service's own transactions past that limit fail once, not retried for 30 s like other transient errors", async () => {
    const db = new Database(neo4j.driver);
    const big = { s: '0123456789'.repeat(1000) };
    for (const how of ['read', 'write'] as const) {
      let attempts = 0;
      const failed = await step(
        how,
        db[how](async (tx) => {
          attempts++;
          await tx.run(HOG, big);
        }).catch((err: unknown) => err),
      );
      expect(failed).toBeInstanceOf(AppError);
      expect(failed).toMatchObject({ code: 'query_memory_limit', status: 422 });
      expect((failed as AppError).message).toMatch(/IMPORT_PART_ROWS/);
      expect([how, attempts]).toEqual([how, 1]);
    }
  });

  it('audits a query before it runs: one that has not ended is in the trail as started', async () => {
    const query = 'UNWIND range(1, 1000000000) AS x WITH x WHERE x = -3 RETURN count(*) AS n';
    // Through a service with a 10 s limit: the entry is looked for while the query runs,
    // and a JVM pause on a loaded machine can be seconds.
    const patient = await startService(neo4j, { API_KEYS, QUERY_TIMEOUT_MS: '10000' });
    const pending = postJson(`${patient.url}/v1/cypher`, { query }, auth('analyst'));
    try {
      type Entry = Record<string, unknown> & { params: { query?: string } };
      // While it computes in Neo4j: there already, with no end. Looked for straight in
      // Neo4j: the service's own reads share a busy core, and could time out meanwhile.
      let running: Entry | undefined;
      let settled = false;
      void pending.finally(() => (settled = true));
      while (!running && !settled) {
        const res = await neo4j.driver.executeQuery(
          "MATCH (e:AuditEntry {action: 'cypher'}) WHERE e.params CONTAINS $q RETURN e {.*} AS e",
          { q: JSON.stringify(query) },
        );
        const found = res.records[0]?.get('e') as Record<string, unknown> | undefined;
        running = found && {
          ...found,
          params: JSON.parse(found.params as string) as Entry['params'],
        };
        if (!running) await new Promise((r) => setTimeout(r, 20));
      }
      expect(running).toMatchObject({ actor: 'ana', role: 'analyst', outcome: 'started' });
      expect(running?.params.query).toBe(query);
      expect(running?.endedAt).toBeUndefined();
      expect(await step('timeout', pending)).toMatchObject({ status: 504 });
      // Completed in place, as the API lists it: the same entry, with its outcome and end.
      const page = await getJson(`${svc.url}/v1/audit?action=cypher&limit=20`, auth('admin'));
      expect(page.status).toBe(200);
      const ended = (page.body.entries as Entry[]).find((e) => e.params.query === query);
      // (an Integer from this test's driver, which keeps integers exact)
      expect(ended).toMatchObject({
        id: running?.id,
        at: Number(running?.at),
        outcome: 'query_timeout',
      });
      expect(ended?.endedAt).toEqual(expect.any(Number));
    } finally {
      await patient.stop();
    }
  });

  it('401 without a key, 403 for the ingest role, admin allowed', async () => {
    expect(await postJson(`${svc.url}/v1/cypher`, { query: 'RETURN 1' })).toMatchObject({
      status: 401,
      body: { error: { code: 'unauthenticated' } },
    });
    expect(await cypher('RETURN 1 AS one', undefined, 'ingest')).toMatchObject({
      status: 403,
      body: { error: { code: 'forbidden' } },
    });
    expect((await cypher('RETURN 1 AS one', undefined, 'admin')).body.rows).toEqual([{ one: 1 }]);
  });

  it('audits every query, refused ones included', async () => {
    await cypher('MATCH (a:Account {id: $id}) RETURN a.id AS id', { id: 'audit-me' });
    await cypher("CREATE (:Hacked {tag: 'audit-me-too'})");
    const res = await neo4j.driver.executeQuery(
      "MATCH (e:AuditEntry {action: 'cypher'}) WHERE e.params CONTAINS 'audit-me' RETURN e {.*} AS e ORDER BY e.at",
    );
    const entries = res.records.map((r) => r.get('e') as Record<string, string>);
    expect(entries.map((e) => [e.actor, e.role, e.outcome])).toEqual([
      ['ana', 'analyst', 'ok'],
      ['ana', 'analyst', 'write_not_allowed'],
    ]);
    expect(JSON.parse(entries[0]?.params ?? '{}')).toEqual({
      query: 'MATCH (a:Account {id: $id}) RETURN a.id AS id',
      params: { id: 'audit-me' },
    });
  });
});

describe('query workers', () => {
  it('a worker that dies while idle is not handed the next query; params keep their types', async () => {
    // Review, 12-04: an idle worker had no exit listener, so the next query went to a dead
    // thread and waited out its deadline (504); an 'error' with no listener would be thrown.
    const connection = { uri: neo4j.uri, user: neo4j.user, password: neo4j.password };
    const db = openDatabase(connection);
    const workers = new QueryWorkers(db, connection, 64, createLogger('silent'));
    const caps = { maxRows: 10, maxBytes: 1 << 20 };
    const opts = { timeoutMs: 5000, fetchSize: 1 };
    try {
      const spec = {
        text: 'RETURN $n + 1 AS n, $big AS big, $nested AS nested',
        params: {
          n: int(41),
          big: neo4jDriver.int('9007199254740993'),
          nested: { l: [int(1), 'x', null] },
        },
        checkPlan: false,
      };
      expect((await workers.run(spec, caps, opts)).rows).toEqual([
        { n: 42, big: '9007199254740993', nested: { l: [1, 'x', null] } },
      ]);
      const idle = (workers as unknown as { idle: import('node:worker_threads').Worker[] }).idle;
      expect(idle).toHaveLength(1);
      await idle[0]!.terminate();
      expect(idle).toHaveLength(0);
      // Handed to the dead worker, it was a 504 at the deadline (7 s). No bound on the time
      // taken: a new worker loads through tsx here, seconds on a loaded machine.
      expect((await step('after', workers.run(spec, caps, opts))).rows).toHaveLength(1);
    } finally {
      await db.close();
    }
  });

  it("the console's own read paths are read transactions: Neo4j refuses a write the guard let by", async () => {
    // Review, 12-06: the test above this file's "second line of defence" ran the write
    // through Database.read, which the console never uses; these are the two it does.
    const connection = { uri: neo4j.uri, user: neo4j.user, password: neo4j.password };
    const db = openDatabase(connection);
    const workers = new QueryWorkers(db, connection, 64, createLogger('silent'));
    const caps = { maxRows: 10, maxBytes: 1 << 20 };
    const opts = { timeoutMs: 5000, fetchSize: 1 };
    const write = { text: 'CREATE (:Hacked) RETURN 1 AS one', params: {}, checkPlan: false };
    try {
      const paths = {
        worker: () => workers.run(write, caps, opts),
        inProcess: () => db.readOnce((tx) => executeQuery(tx, write, caps), opts),
      };
      for (const [path, run] of Object.entries(paths)) {
        const err = await run().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect({ path, code: (err as { code?: string } | undefined)?.code }).toEqual({
          path,
          code: 'Neo.ClientError.Statement.AccessMode',
        });
        expect(mapQueryError(err)).toMatchObject({ code: 'write_not_allowed', status: 403 });
      }
      const count = await neo4j.driver.executeQuery('MATCH (n:Hacked) RETURN count(n) AS n');
      expect(count.records[0]?.get('n').toNumber()).toBe(0);
    } finally {
      await db.close();
    }
  });
});

describe('CYPHER_CONSOLE', () => {
  it('admin keeps the console to admins, off turns it off; investigations run either way', async () => {
    const adminOnly = await startService(neo4j, { API_KEYS, CYPHER_CONSOLE: 'admin' });
    const off = await startService(neo4j, { API_KEYS, CYPHER_CONSOLE: 'off' });
    try {
      const query = (s: TestService, role: 'analyst' | 'admin') =>
        postJson(`${s.url}/v1/cypher`, { query: 'RETURN 1 AS one' }, auth(role));
      expect(await query(adminOnly, 'analyst')).toMatchObject({
        status: 403,
        body: { error: { code: 'forbidden', details: { allowed: ['admin'] } } },
      });
      expect((await query(adminOnly, 'admin')).body.rows).toEqual([{ one: 1 }]);
      const refused = await query(off, 'admin');
      expect(refused).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
      expect(JSON.stringify(refused.body)).toContain('CYPHER_CONSOLE=off');
      // Still authenticated first.
      expect(await postJson(`${off.url}/v1/cypher`, { query: 'RETURN 1' })).toMatchObject({
        status: 401,
      });
      const saved = await postJson(
        `${off.url}/v1/investigations/signup-bursts`,
        { from: '2026-01-01T00:00:00Z', to: '2026-12-01T00:00:00Z' },
        auth('analyst'),
      );
      expect(saved.status).toBe(200);
    } finally {
      await adminOnly.stop();
      await off.stop();
    }
  });
});
