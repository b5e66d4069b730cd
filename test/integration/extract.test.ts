/**
 * What ingest writes, the linkage run's extract reads back: every fact of an account
 * and every link, against a real Neo4j. The stages after extract are tested on
 * fixtures; this is where the stored model meets their input.
 */
import { extract } from '../../src/linkage/extract';
import type { AccountFacts } from '../../src/linkage/types';
import { EventWriter } from '../../src/ingest/writer';
import { loadCypher, query } from '../../src/platform/cypher';
import type { Driver, Session, SessionConfig } from 'neo4j-driver';
import { Database, int as toNeoInt } from '../../src/platform/neo4j';
import { plainFacts } from '../support/facts';
import { plantWorld } from '../support/linkage-fixtures';
import { migratedDatabase, startTestNeo4j, type TestNeo4j } from '../support/neo4j';

let neo4j: TestNeo4j;
let db: Database;
const cypher = loadCypher();

beforeAll(async () => {
  neo4j = await startTestNeo4j();
  db = await migratedDatabase(neo4j, cypher);
});

afterAll(async () => {
  await db?.close();
  await neo4j?.stop();
});

const HOUR = 3_600_000;
const hour = (t: number) => Math.floor(t / HOUR);

describe('extract', () => {
  const t0 = Date.UTC(2026, 1, 4, 10);
  const fp = '00000000000f1e1d';

  beforeAll(async () => {
    // a: a payment before sign-up, three requests on one model over two hours, two IPs.
    const a = { accountId: 'ex-a', ip: '10.77.0.1' };
    const aWork = { ...a, type: 'request' as const, promptFingerprint: fp, model: 'model-x' };
    // b: same card, same subnet (another address), same prompt, another model and org.
    const b = { accountId: 'ex-b', ip: '10.77.0.2' };
    const bWork = { ...b, type: 'request' as const, promptFingerprint: fp, model: 'model-y' };
    await new EventWriter(db, cypher).write([
      { ...a, type: 'payment', at: t0 - HOUR / 2, paymentMethod: 'pm-shared' },
      {
        ...a,
        type: 'signup',
        at: t0,
        emailDomain: 'shared.example',
        org: 'org-x',
        device: 'dev-a',
      },
      { ...aWork, capability: 'cap-1', at: t0 + HOUR + 1000 },
      { ...aWork, capability: 'cap-1', at: t0 + HOUR + 2000 },
      { ...aWork, capability: 'cap-2', at: t0 + 3 * HOUR, ip: '10.77.0.9' }, // same /24
      { ...b, type: 'signup', at: t0 + 5 * HOUR, emailDomain: 'shared.example', org: 'org-y' },
      { ...bWork, capability: 'cap-1', at: t0 + 6 * HOUR, paymentMethod: 'pm-shared' },
      { ...bWork, capability: 'cap-1', at: t0 + 7 * HOUR },
    ]);
  });

  // packed: the launcher's procedure (the test Neo4j has it); false: the Cypher query.
  it.each([
    ['packed pages', true],
    ['Cypher pages', false],
  ])(
    'reads back every fact and link that ingest stored, names and shared values included (%s)',
    async (_how, packed) => {
      // One account per page, so the shared values are met again on a later page; a
      // full page asks for the next, so the third page is the empty one that ends it.
      const { input, stats } = await extract(db, cypher, { pageSize: 1, packed });
      expect(stats).toMatchObject({
        accounts: 2,
        pages: 3,
        models: 2,
        links: 14,
        agedLinks: 0, // nothing ages unless asked
        packed: packed ? 1 : 0,
      });
      expect(stats.agedAsOf).toBeUndefined();
      // The packed extract asked the launcher's Neo4j twice (as it starts and as it ends)
      // to give its heap back.
      if (packed) {
        for (const [before, after] of [
          [stats.neo4jHeapStartMiB, stats.neo4jHeapStartAfterMiB],
          [stats.neo4jHeapMiB, stats.neo4jHeapAfterMiB],
        ]) {
          expect(before).toBeGreaterThan(0);
          expect(after).toBeGreaterThan(0);
          expect(after).toBeLessThanOrEqual(before!);
        }
      } else {
        expect(stats.neo4jHeapMiB).toBeUndefined();
        expect(stats.neo4jHeapStartMiB).toBeUndefined();
      }
      const byId = new Map(input.accounts.map((acc, i) => [acc.id, i]));
      const ia = byId.get('ex-a') as number;
      const ib = byId.get('ex-b') as number;

      const [r1, r3] = [t0 + HOUR + 1000, t0 + 3 * HOUR]; // first and last request
      expect(plainFacts(input.accounts[ia]!)).toEqual<AccountFacts>({
        id: 'ex-a',
        signupAt: t0,
        firstSeen: t0 - HOUR / 2,
        lastSeen: r3,
        requests: 3,
        hours: { keys: [hour(r1), hour(r3)], counts: [2, 1] },
        emailDomain: 'shared.example',
        org: 'org-x',
        models: [
          {
            name: 'model-x',
            count: 3,
            firstUse: r1,
            hours: { keys: [hour(r1), hour(r3)], counts: [2, 1] },
          },
        ],
        capabilities: [
          { name: 'cap-1', count: 2 },
          { name: 'cap-2', count: 1 },
        ],
      });
      const [s1, s2] = [t0 + 6 * HOUR, t0 + 7 * HOUR];
      expect(plainFacts(input.accounts[ib]!)).toEqual<AccountFacts>({
        id: 'ex-b',
        signupAt: t0 + 5 * HOUR,
        firstSeen: t0 + 5 * HOUR,
        lastSeen: s2,
        requests: 2,
        hours: { keys: [hour(s1), hour(s2)], counts: [1, 1] },
        emailDomain: 'shared.example',
        org: 'org-y',
        models: [
          {
            name: 'model-y',
            count: 2,
            firstUse: s1,
            hours: { keys: [hour(s1), hour(s2)], counts: [1, 1] },
          },
        ],
        capabilities: [{ name: 'cap-1', count: 2 }],
      });

      // Links as (kind, value, events behind it) per account; subnets derived through the IP.
      const links = (account: number) =>
        [...input.linkAccount.keys()]
          .filter((l) => input.linkAccount[l] === account)
          .map((l) => {
            const id = input.identifiers.at(input.linkIdentifier[l] as number);
            return [id.kind, id.value, input.linkCount[l]];
          })
          .sort((x, y) => `${x[0]} ${x[1]}`.localeCompare(`${y[0]} ${y[1]}`));
      expect(links(ia)).toEqual([
        ['device', 'dev-a', 1],
        ['email_domain', 'shared.example', 1],
        ['ip', '10.77.0.1', 4],
        ['ip', '10.77.0.9', 1],
        ['org', 'org-x', 1],
        ['payment', 'pm-shared', 1],
        ['prompt', fp, 3],
        ['subnet', '10.77.0.0/24', 5],
      ]);
      expect(links(ib)).toEqual([
        ['email_domain', 'shared.example', 1],
        ['ip', '10.77.0.2', 3],
        ['org', 'org-y', 1],
        ['payment', 'pm-shared', 1],
        ['prompt', fp, 2],
        ['subnet', '10.77.0.0/24', 3],
      ]);
      // A shared value is one identifier, whichever account (and page) met it first.
      const values = input.identifiers.toArray().map((i) => `${i.kind}:${i.value}`);
      expect(values.length).toBe(new Set(values).size);
      expect(values.sort()).toEqual([
        'device:dev-a',
        'email_domain:shared.example',
        'ip:10.77.0.1',
        'ip:10.77.0.2',
        'ip:10.77.0.9',
        'org:org-x',
        'org:org-y',
        'payment:pm-shared',
        `prompt:${fp}`,
        'subnet:10.77.0.0/24',
      ]);
      expect(input.models).toEqual(['model-x', 'model-y']);
    },
  );

  it.each([
    ['packed pages', true],
    ['Cypher pages', false],
  ])(
    'leaves out links last seen longer ago than their kind allows, before the newest activity (%s)',
    async (_how, packed) => {
      // Newest activity: ex-b's last request at t0 + 7 h. IPs older than 4.5 h before it
      // (t0 + 2.5 h) and payments older than 6.5 h (t0 + 0.5 h) are aged.
      const { input, stats } = await extract(db, cypher, {
        pageSize: 1,
        packed,
        linkMaxAge: { ip: 4.5 * HOUR, payment: 6.5 * HOUR },
      });
      expect(stats).toMatchObject({ accounts: 2, agedAsOf: t0 + 7 * HOUR, packed: packed ? 1 : 0 });
      const kept = input.linkAccount.reduce<string[]>((out, account, l) => {
        const id = input.identifiers.at(input.linkIdentifier[l] as number);
        if (id.kind === 'ip' || id.kind === 'subnet' || id.kind === 'payment')
          out.push(`${input.accounts[account]!.id} ${id.kind} ${id.value} ${input.linkCount[l]}`);
        return out;
      }, []);
      // ex-a's 10.77.0.1 (last seen t0 + 1 h) and its card (t0 - 0.5 h) are aged; its
      // subnet keeps only the events of the IP that was not. ex-b's card, last used at
      // t0 + 6 h, still links.
      expect(kept.sort()).toEqual([
        'ex-a ip 10.77.0.9 1',
        'ex-a subnet 10.77.0.0/24 1',
        'ex-b ip 10.77.0.2 3',
        'ex-b payment pm-shared 1',
        'ex-b subnet 10.77.0.0/24 3',
      ]);
      expect(stats.agedLinks).toBe(2);
      expect(stats.links).toBe(12); // 14 without ageing (above), less the two aged
    },
  );

  it.each([
    ['packed pages', true],
    ['Cypher pages', false],
  ])(
    'starts every read from the bookmarks the read before it ended with (%s)',
    async (_how, packed) => {
      // Each session the driver opens, with the bookmarks it was given and those it ended
      // with. On a cluster this is what keeps a later page off a server behind an earlier one.
      const sessions: { mode: string; given: string[]; session: Session; queries: string[] }[] = [];
      const spy = Object.create(db.driver) as Driver;
      spy.session = (config?: SessionConfig) => {
        const session = db.driver.session(config);
        const given = ([] as string[]).concat(config?.bookmarks ?? []);
        // what each session's transactions ran, to see which read came when
        const queries: string[] = [];
        const executeRead = session.executeRead.bind(session);
        session.executeRead = (work, txConfig) =>
          executeRead((tx) => {
            const run = tx.run.bind(tx);
            return work(
              Object.assign(Object.create(tx) as typeof tx, {
                run: (text: string, params?: Record<string, unknown>) => {
                  queries.push(text);
                  return run(text, params);
                },
              }),
            );
          }, txConfig);
        sessions.push({ mode: config?.defaultAccessMode ?? 'WRITE', given, session, queries });
        return session;
      };
      const { stats } = await extract(new Database(spy, db.database), cypher, {
        pageSize: 1,
        packed,
        linkMaxAge: { ip: 4.5 * HOUR },
      });
      expect(stats.pages).toBe(3);
      const reads = sessions.filter((s) => s.mode === 'READ');
      // count, allow-list, newest activity, three pages, models; packed: also the
      // procedure's format and the heap released before the pages and after them
      expect(reads.length).toBe(packed ? 10 : 7);
      // the allow-list right after the count, before any page: a run applies the list
      // as it stood when the run started (README)
      expect(reads[1]!.queries).toEqual([query(cypher, 'linkage/read-allowlist-entries')]);
      expect(reads[0]!.given).toEqual([]);
      for (let i = 1; i < reads.length; i++) {
        const before = reads[i - 1]!.session.lastBookmarks();
        expect(before.length).toBeGreaterThan(0);
        expect(reads[i]!.given).toEqual(before);
      }
    },
  );

  it('reads the same input from packed pages as from Cypher pages, order included', async () => {
    // The planted world, plus one account past Neo4j's dense-node threshold (50
    // relationships): its relationships are stored per type, the order both readers walk.
    const base = Date.UTC(2026, 2, 1);
    const dense = Array.from({ length: 70 }, (_, i) => ({
      type: 'request' as const,
      accountId: 'ex-dense',
      at: base + i * HOUR,
      ip: `10.88.${i % 3}.${i}`,
      promptFingerprint: (0xabc000 + i).toString(16).padStart(16, '0'),
      model: `model-${i % 4}`,
      capability: `cap-${i % 5}`,
    }));
    await new EventWriter(db, cypher).write([
      ...plantWorld().events.map((e) => ({ ...e, at: Date.parse(e.at) })),
      ...dense,
    ]);
    // Values ingest never writes, for the packed layout's other branches: non-integers,
    // negatives, integers past 2^50, a non-string, text beyond ASCII, missing counts.
    await db.write((tx) =>
      tx.run(`
        CREATE (a:Account {id: 'ex-odd', requests: 2.5, firstSeen: -86400000,
                           lastSeen: 2251799813685249, hourKeys: [5, 3, -2, 1000000],
                           hourCounts: [1.5, 2.0], org: 'Zürich 学院', emailDomain: 42})
        CREATE (a)-[:CONNECTED_FROM]->(:IP {address: '192.0.2.77'})
        CREATE (a)-[:IN_ORG {count: 0.0 / 0.0}]->(:Org {id: 'Zürich 学院'})
        CREATE (a)-[:USED_MODEL {count: 7, firstUse: 1.0e12, hourKeys: [2251799813685248, 2251799813685250],
                                 hourCounts: [9007199254740993, -9007199254740993]}]
               ->(:Model {name: 'mödel-ü'})`),
    );
    // An account of ~1.4 MB, many of the procedure's 192 KiB chunks, and enough accounts
    // that a page counts past 127 (the count's varint then takes its padding bytes).
    await db.write((tx) =>
      tx.run(`
        CREATE (:Account {id: 'ex-big', hourKeys: range(1, 150000),
                          hourCounts: [x IN range(1, 150000) | x + 0.5]})
        WITH 1 AS one
        UNWIND range(1, 150) AS i
        CREATE (:Account {id: 'ex-many-' + toString(i), requests: i})`),
    );
    // A lastSeen of NaN, which Cypher orders above every number: not the newest activity.
    await db.write((tx) => tx.run("CREATE (:Account {id: 'ex-nan', lastSeen: 0.0 / 0.0})"));

    const read = async (packed: boolean, linkMaxAge = {}) => {
      const { input, stats } = await extract(db, cypher, {
        pageSize: 7,
        packed,
        linkMaxAge,
        now: base + 46 * HOUR,
      });
      expect(stats.packed).toBe(packed ? 1 : 0);
      const rest = Object.fromEntries(
        Object.entries(stats).filter(
          ([k]) => k !== 'ms' && !k.endsWith('Ms') && k !== 'packed' && !k.startsWith('neo4jHeap'),
        ),
      );
      return {
        stats: rest,
        accounts: input.accounts.map(plainFacts),
        identifiers: input.identifiers.toArray(),
        links: [[...input.linkAccount], [...input.linkIdentifier], [...input.linkCount]],
        models: input.models,
      };
    };
    const packed = await read(true);
    const viaCypher = await read(false);
    // ex-big's page came in chunks, each small enough to stay out of G1's humongous objects.
    const bigPage = await db.read(async (tx) => {
      const res = await tx.run(query(cypher, 'linkage/read-accounts-page-packed'), {
        after: 'ex-bif',
        limit: toNeoInt(1),
        maxBytes: toNeoInt(1 << 24),
        notBefore: {},
      });
      return res.records[0]?.get('page') as string[];
    });
    expect(bigPage.length).toBeGreaterThan(5);
    expect(Math.max(...bigPage.map((chunk) => chunk.length))).toBeLessThanOrEqual(256 * 1024);
    const { input: onePage } = await extract(db, cypher, { pageSize: 1000 });
    expect(onePage.accounts.map(plainFacts)).toEqual(viaCypher.accounts);
    // Pages cut by bytes (one account each here) continue where they stopped.
    const { input: byBytes, stats: byBytesStats } = await extract(db, cypher, {
      pageSize: 7,
      maxPageBytes: 1,
    });
    expect(byBytesStats.pages).toBe(byBytes.accounts.length + 1);
    expect(byBytes.accounts.map(plainFacts)).toEqual(viaCypher.accounts);
    expect(byBytes.identifiers.toArray()).toEqual(viaCypher.identifiers);
    expect(packed.stats.accounts).toBeGreaterThan(40);
    expect(packed.accounts.find((a) => a.id === 'ex-dense')?.models).toHaveLength(4);
    expect(packed.accounts.find((a) => a.id === 'ex-odd')).toMatchObject({
      requests: 2.5,
      firstSeen: -86400000,
      lastSeen: 2251799813685249,
      org: 'Zürich 学院',
      emailDomain: null,
    });
    // NaN stays NaN; an integer past 2^53 - 1 is Infinity, as the driver reads it.
    const odd = packed.accounts.find((a) => a.id === 'ex-odd');
    expect(odd?.models[0]?.hours.counts).toEqual([Infinity, -Infinity]);
    // A link's count NaN (the org) or missing (the IP; it has no subnet here) is one
    // event, not NaN.
    const at = packed.accounts.findIndex((a) => a.id === 'ex-odd');
    const [accountOf, , countOf] = packed.links;
    const oddCounts = countOf!.filter((_, l) => accountOf![l] === at);
    expect(oddCounts).toEqual([1, 1]);
    expect(packed).toEqual(viaCypher);
    // Aged the same way by both. The newest activity is ex-odd's lastSeen, 2^51 ms (not
    // ex-nan's NaN), capped at the clock (base + 46 h) plus the day ingest allows: base + 70 h. The dense account's
    // hourly IPs and prompts (base + 0…69 h) keep a day's worth; the odd account's links,
    // which have no lastSeen, never age.
    const day = { ip: 24 * HOUR, prompt: 24 * HOUR, org: 24 * HOUR, payment: 24 * HOUR };
    const agedPacked = await read(true, day);
    expect(agedPacked.stats.agedAsOf).toBe(base + 70 * HOUR);
    const denseAt = agedPacked.accounts.findIndex((a) => a.id === 'ex-dense');
    const [accountOfAged, identifierOfAged] = agedPacked.links;
    const denseKinds = identifierOfAged!
      .filter((_, l) => accountOfAged![l] === denseAt)
      .map((i) => agedPacked.identifiers[i]!.kind);
    expect(denseKinds.filter((k) => k === 'ip')).toHaveLength(24);
    expect(denseKinds.filter((k) => k === 'prompt')).toHaveLength(24);
    expect(agedPacked.stats.agedLinks).toBeGreaterThanOrEqual(2 * 46);
    expect(accountOfAged!.filter((a) => a === at)).toHaveLength(2);
    expect(agedPacked).toEqual(await read(false, day));
  });

  it("reads Cypher pages from a Neo4j without the launcher's procedure", async () => {
    const without = new Map(cypher);
    // What a stock Neo4j answers: Neo.ClientError.Procedure.ProcedureNotFound.
    without.set(
      'linkage/read-packed-format',
      'CALL coterie.noSuchProcedure() YIELD format RETURN format',
    );
    const { stats } = await extract(db, without, { pageSize: 50 });
    expect(stats).toMatchObject({ packed: 0 });
    expect(stats.accounts).toBeGreaterThan(40);
    // A procedure of another layout version (a plugin jar left from an older Coterie).
    without.set('linkage/read-packed-format', 'RETURN 1 AS format');
    expect((await extract(db, without, { pageSize: 50 })).stats).toMatchObject({ packed: 0 });
  });

  it('fails on both paths when a stored value has a type ingest never writes', async () => {
    const cases = [
      "CREATE (:Account {id: 'ex-bad', requests: '5'})",
      "CREATE (:Account {id: 'ex-bad', hourKeys: ['7', '9']})",
      "CREATE (:Account {id: 'ex-bad'})-[:USED_MODEL {count: 1}]->(:Model {name: 42})",
    ];
    for (const create of cases) {
      await db.write((tx) => tx.run(create));
      try {
        for (const packed of [true, false]) {
          await expect(extract(db, cypher, { packed })).rejects.toThrow(/expected a (number|name)/);
        }
      } finally {
        await db.write((tx) =>
          tx.run(
            "MATCH (a:Account {id: 'ex-bad'}) OPTIONAL MATCH (a)-->(m:Model) DETACH DELETE a, m",
          ),
        );
      }
    }
  });
});
