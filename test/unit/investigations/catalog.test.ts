/** Investigation headers → parameter specs and zod schemas (pure). */
import {
  exampleParams,
  loadInvestigations,
  parseInvestigation,
  toDriverParams,
  usedParameters,
} from '../../../src/investigations/catalog';
import { loadCypher } from '../../../src/platform/cypher';
import neo4j, { type Integer } from 'neo4j-driver';

const TEXT = `// @description Finds things.
// @param accountId string
// @param limit int = 100
// @param minShare float = 0.5
// @param since datetime
// @param strict boolean = false
// @param org string?
MATCH (a:Account {id: $accountId}) WHERE a.signupAt >= $since AND ($org IS NULL OR a.org = $org)
  AND $strict = $strict AND a.x > $minShare
RETURN a.id AS id LIMIT $limit
`;

describe('parseInvestigation', () => {
  const inv = parseInvestigation('find-things', TEXT);

  it('reads description and typed parameters with defaults', () => {
    expect(inv.description).toBe('Finds things.');
    expect(inv.params).toEqual([
      { name: 'accountId', type: 'string', required: true },
      { name: 'limit', type: 'int', required: false, default: 100 },
      { name: 'minShare', type: 'float', required: false, default: 0.5 },
      { name: 'since', type: 'datetime', required: true },
      { name: 'strict', type: 'boolean', required: false, default: false },
      { name: 'org', type: 'string', required: false },
    ]);
  });

  it('validates bodies: defaults, optionals as null, datetimes as epoch ms', () => {
    expect(inv.schema.parse({ accountId: 'a', since: '2026-02-01T00:00:00Z' })).toEqual({
      accountId: 'a',
      limit: 100,
      minShare: 0.5,
      since: Date.parse('2026-02-01T00:00:00Z'),
      strict: false,
      org: null,
    });
    for (const bad of [
      {},
      { accountId: 'a' },
      { accountId: 1, since: '2026-02-01T00:00:00Z' },
      { accountId: 'a', since: 'yesterday' },
      { accountId: 'a', since: '2026-02-01T00:00:00Z', limit: 1.5 },
      { accountId: 'a', since: '2026-02-01T00:00:00Z', limit: '10' },
      { accountId: 'a', since: '2026-02-01T00:00:00Z', extra: 1 },
    ]) {
      expect(inv.schema.safeParse(bad).success).toBe(false);
    }
  });

  it('passes ints and datetimes to the driver as Neo4j integers', () => {
    const params = toDriverParams(
      inv,
      inv.schema.parse({ accountId: 'a', since: '2026-02-01T00:00:00Z' }),
    );
    expect(params.limit).toMatchObject({ low: 100, high: 0 });
    // epoch ms need the high word: a JS number would reach Cypher as a float
    expect(neo4j.isInt(params.since)).toBe(true);
    expect((params.since as Integer).toNumber()).toBe(Date.parse('2026-02-01T00:00:00Z'));
    expect(params.minShare).toBe(0.5);
    expect(Object.keys(exampleParams(inv)).sort()).toEqual(inv.params.map((p) => p.name).sort());
  });

  it('refuses malformed headers', () => {
    expect(() => parseInvestigation('x', 'MATCH (n) RETURN n')).toThrow(/@description/);
    expect(() =>
      parseInvestigation('x', '// @description d\n// @param a strin\nRETURN $a'),
    ).toThrow(/unknown type/);
    expect(() => parseInvestigation('x', '// @description d\nRETURN $a')).toThrow(
      /\$a has no @param/,
    );
    expect(() =>
      parseInvestigation('x', '// @description d\n// @param a int = abc\nRETURN $a'),
    ).toThrow(/default/);
    expect(() =>
      parseInvestigation('x', '// @description d\n// @param a int\n// @param a int\nRETURN $a'),
    ).toThrow(/twice/);
  });

  it('holds @check a < b where both are given, and refuses a check it cannot hold', () => {
    const inv = parseInvestigation(
      'x',
      '// @description d\n// @param from datetime\n// @param to datetime?\n// @check from < to\nRETURN $from, $to',
    );
    const at = (d: number) => `2026-02-0${d}T00:00:00Z`;
    expect(inv.schema.safeParse({ from: at(1), to: at(2) }).success).toBe(true);
    expect(inv.schema.safeParse({ from: at(1) }).success).toBe(true); // `to` not given
    for (const to of [at(1), '2026-01-31T23:59:59Z']) {
      const r = inv.schema.safeParse({ from: at(1), to });
      expect(r.success).toBe(false);
      expect(r.error?.issues.map((i) => i.path.join('.'))).toEqual(['to']);
    }
    // Later as written, but not by a millisecond: said so (review, 12-07).
    const close = inv.schema.safeParse({ from: at(1), to: '2026-02-01T00:00:00.0001Z' });
    expect(close.error?.issues.map((i) => i.message)).toEqual([
      'must be after from by 1 ms at least (times are read to the millisecond)',
    ]);
    expect(() =>
      parseInvestigation(
        'x',
        '// @description d\n// @param a string\n// @param b int\n// @check a < b\nRETURN $a, $b',
      ),
    ).toThrow(/a is no int, float or datetime/);
    expect(() =>
      parseInvestigation('x', '// @description d\n// @param a int\n// @check a < c\nRETURN $a'),
    ).toThrow(/c is no int/);
    expect(() =>
      parseInvestigation('x', '// @description d\n// @param a int\n// @check a <= b\nRETURN $a'),
    ).toThrow(/malformed @check/);
  });

  it('holds @check a != b on the parsed values, and refuses one between two types', () => {
    const inv = parseInvestigation(
      'x',
      '// @description d\n// @param a ip\n// @param b ip?\n// @check a != b\nRETURN $a, $b',
    );
    expect(inv.schema.safeParse({ a: '10.0.0.1', b: '10.0.0.2' }).success).toBe(true);
    expect(inv.schema.safeParse({ a: '10.0.0.1' }).success).toBe(true); // `b` not given
    // two spellings of one address are one value
    const same = inv.schema.safeParse({ a: '10.0.0.1', b: '::ffff:10.0.0.1' });
    expect(same.success).toBe(false);
    expect(same.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['b', 'must differ from a'],
    ]);
    expect(() =>
      parseInvestigation(
        'x',
        '// @description d\n// @param a string\n// @param b int\n// @check a != b\nRETURN $a, $b',
      ),
    ).toThrow(/not of one type/);
    expect(() =>
      parseInvestigation('x', '// @description d\n// @param a string\n// @check a != c\nRETURN $a'),
    ).toThrow(/c is no @param/);
  });

  it('reads @aged: the kind of link and the column holding its lastSeen', () => {
    const head = '// @description d\n';
    const body = 'MATCH (a)-[r]->() RETURN a.id AS id, r.lastSeen AS lastSeen';
    expect(parseInvestigation('x', `${head}// @aged ip lastSeen\n${body}`).aged).toEqual({
      kind: 'ip',
      column: 'lastSeen',
    });
    expect(parseInvestigation('x', `${head}${body}`).aged).toBeUndefined();
    // each: the column lists the row's links with their kinds (a chain)
    expect(parseInvestigation('x', `${head}// @aged each lastSeen\n${body}`).aged).toEqual({
      kind: 'each',
      column: 'lastSeen',
    });
    // shared: the column counts a shared value's links by the run's ages, which the
    // service passes as $agedAsOf and $agedNotBefore (no @param of those names)
    const judged = 'MATCH (a)-[r]->() WHERE r.lastSeen < $agedNotBefore.ip OR $agedAsOf IS NULL\n';
    const shared = `${head}// @aged shared lastSeen\n${judged}${body.slice(body.indexOf('RETURN'))}`;
    expect(parseInvestigation('x', shared).aged).toEqual({ kind: 'shared', column: 'lastSeen' });
    expect(() => parseInvestigation('x', `${head}${judged}RETURN 1 AS lastSeen`)).toThrow(
      /\$agedNotBefore has no @param|\$agedAsOf has no @param/,
    );
    expect(() =>
      parseInvestigation('x', `${head}// @aged shared lastSeen\n// @param agedAsOf int\n${body}`),
    ).toThrow(/@param agedAsOf is the service's own/);
    const refused: [string, RegExp][] = [
      ['// @aged subnet lastSeen', /none of payment, device, ip/], // subnets age with their IPs
      ['// @aged card lastSeen', /"card" is none of/],
      ['// @aged ip', /malformed @aged/],
      ['// @aged ip seen', /column seen is not returned/],
      ['// @aged ip lastSeen\n// @aged prompt lastSeen', /declared twice/],
    ];
    for (const [line, why] of refused)
      expect(() => parseInvestigation('x', `${head}${line}\n${body}`)).toThrow(why);
    // The column it adds must not hide one the query returns.
    expect(() =>
      parseInvestigation('x', `${head}// @aged ip lastSeen\n${body}, true AS aged`),
    ).toThrow(/returns already/);
  });

  it('reads ranges of numbers and holds values and defaults to them', () => {
    const ranged = parseInvestigation(
      'r',
      '// @description d\n// @param n int 1..10 = 5\n// @param share float 0..1 = 0.5\n// @param low int -3.. = 0\nRETURN $n, $share, $low',
    );
    expect(ranged.params).toEqual([
      { name: 'n', type: 'int', required: false, default: 5, min: 1, max: 10 },
      { name: 'share', type: 'float', required: false, default: 0.5, min: 0, max: 1 },
      { name: 'low', type: 'int', required: false, default: 0, min: -3 },
    ]);
    expect(ranged.schema.safeParse({ n: 10, share: 1, low: -3 }).success).toBe(true);
    for (const bad of [{ n: 0 }, { n: 11 }, { share: 1.5 }, { low: -4 }]) {
      expect([bad, ranged.schema.safeParse(bad).success]).toEqual([bad, false]);
    }
    expect(() =>
      parseInvestigation('x', '// @description d\n// @param a int 1..10 = 0\nRETURN $a'),
    ).toThrow(/in its range/);
    expect(() =>
      parseInvestigation('x', '// @description d\n// @param a string 1..10\nRETURN $a'),
    ).toThrow(/has a range but is a string/);
  });

  it('finds parameters outside comments and strings', () => {
    expect([...usedParameters('// $nope\nRETURN $a, \'$b\', "$c", $d')]).toEqual(['a', 'd']);
  });

  it("a // inside a string starts no comment: the line's later parameters count (review, 12-05)", () => {
    // Before, `'http://x'` hid `$accountId`: the file loaded, and every call failed in Neo4j.
    const text =
      "MATCH (a:Account) WHERE a.emailDomain <> 'http://x' AND a.id = $accountId\n" +
      "/* $inBlock\n $stillBlock */ RETURN a.id AS `$quoted`, 'it''s // $inString' AS s LIMIT $limit";
    expect([...usedParameters(text)].sort()).toEqual(['accountId', 'limit']);
  });
});

describe('parameters that name values the graph holds', () => {
  const inv = parseInvestigation(
    'values',
    [
      '// @description Values.',
      '// @param address ip',
      '// @param fingerprint fingerprint',
      '// @param accountId account',
      '// @param clusterId cluster',
      '// @param model model',
      '// @param near ip?',
      'RETURN $address, $fingerprint, $accountId, $clusterId, $model, $near',
    ].join('\n'),
  );
  const valid = {
    address: '203.0.113.9',
    fingerprint: '0123456789abcdef',
    accountId: 'ring:0',
    clusterId: 'c-ring',
    model: 'model-new',
  };
  const parse = (patch: Record<string, unknown>) => inv.schema.safeParse({ ...valid, ...patch });

  it.each([
    ['203.0.113.9', '203.0.113.9'],
    [' 203.0.113.9 ', '203.0.113.9'],
    ['2001:DB8::1', '2001:db8::1'],
    ['2001:db8:0:0::1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['::ffff:203.0.113.9', '203.0.113.9'],
    ['106.111.69.0/24', '106.111.69.0/24'],
    ['106.111.69.77/24', '106.111.69.0/24'],
    ['2001:DB8:1:2::/48', '2001:db8:1::/48'],
  ])('ip %j is canonicalised as ingest stores it: %j', (raw, canonical) => {
    const parsed = parse({ address: raw });
    expect(parsed.success && parsed.data.address).toBe(canonical);
  });

  it.each([
    'not-an-ip',
    '',
    '10.0.0.256',
    '010.0.0.1',
    '10.0.0.0/16',
    '10.0.0.0/',
    '/24',
    '2001:db8::/64',
    '2001:db8::1/24',
  ])('ip %j is refused', (raw) => {
    const parsed = parse({ address: raw });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.path.join('.'))).toEqual(['address']);
  });

  it('refuses an IPv4-mapped address with a prefix, naming the IPv4 /24 to give instead', () => {
    for (const raw of ['::ffff:203.0.113.9/48', '::ffff:203.0.113.9/24']) {
      const parsed = parse({ address: raw });
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
        [
          'address',
          'must be given as its IPv4 /24, 203.0.113.0/24: an IPv4-mapped IPv6 address is stored as IPv4',
        ],
      ]);
    }
    expect(parse({ address: '2001:db8::1/24' }).error?.issues[0]?.message).toBe(
      'must be an IPv4 or IPv6 address, or an IPv4 /24 or IPv6 /48 in CIDR form (e.g. 10.1.2.0/24)',
    );
  });

  it('passes an ip to Cypher as its address and the subnet holding it', () => {
    const driver = (address: string) =>
      toDriverParams(inv, inv.schema.parse({ ...valid, address }));
    expect(driver('2001:DB8::1').address).toEqual({
      address: '2001:db8::1',
      subnet: '2001:db8::/48',
    });
    expect(driver('106.111.69.1').address).toEqual({
      address: '106.111.69.1',
      subnet: '106.111.69.0/24',
    });
    expect(driver('106.111.69.0/24').address).toEqual({
      address: null,
      subnet: '106.111.69.0/24',
    });
    expect(driver('106.111.69.1').near).toBeNull();
    expect(toDriverParams(inv, exampleParams(inv))).toMatchObject({
      address: { address: '192.0.2.1', subnet: '192.0.2.0/24' },
    });
  });

  it('fingerprints: 16 hex digits in either case, lower-cased; nothing else', () => {
    const parsed = parse({ fingerprint: '0123456789ABCDEF' });
    expect(parsed.success && parsed.data.fingerprint).toBe('0123456789abcdef');
    for (const bad of ['xyz', '0123456789abcde', '0123456789abcdef0', '0123456789abcdeg', '']) {
      expect([bad, parse({ fingerprint: bad }).success]).toEqual([bad, false]);
    }
  });

  it('account ids, cluster ids and model names only in a form the graph can hold', () => {
    expect(parse({}).success).toBe(true);
    for (const [name, bad] of [
      ['accountId', 'ring 0'],
      ['accountId', ''],
      ['accountId', 'a'.repeat(129)],
      ['accountId', 'ring/0'],
      ['clusterId', ''],
      ['clusterId', 'c'.repeat(257)],
      ['model', ''],
      ['model', 'm'.repeat(129)],
    ] as const) {
      const parsed = parse({ [name]: bad });
      const paths = new Set(parsed.error?.issues.map((i) => i.path.join('.')));
      expect([name, bad, [...paths]]).toEqual([name, bad, [name]]);
    }
  });

  it('holds defaults to their type, canonical', () => {
    const withDefaults = parseInvestigation(
      'd',
      '// @description d\n// @param a ip = 2001:DB8::1\n// @param f fingerprint = ABCDEF0123456789\nRETURN $a, $f',
    );
    expect(withDefaults.params).toEqual([
      { name: 'a', type: 'ip', required: false, default: '2001:db8::1' },
      { name: 'f', type: 'fingerprint', required: false, default: 'abcdef0123456789' },
    ]);
    expect(() =>
      parseInvestigation('x', '// @description d\n// @param a ip = nowhere\nRETURN $a'),
    ).toThrow(/default/);
    expect(() =>
      parseInvestigation('x', '// @description d\n// @param a ip 1..2\nRETURN $a'),
    ).toThrow(/has a range/);
  });
});

describe('the shipped investigations', () => {
  it('take graph values as the types that canonicalise and check them', () => {
    const catalog = loadInvestigations(loadCypher());
    const types = Object.fromEntries(
      [...catalog.values()].map((inv) => [
        inv.name,
        Object.fromEntries(inv.params.map((p) => [p.name, p.type])),
      ]),
    );
    expect(types).toMatchObject({
      'accounts-sharing-payment-method': { accountId: 'account' },
      'cluster-strongest-identifiers': { clusterId: 'cluster' },
      'ip-neighbourhood': { address: 'ip' },
      'model-migration': { model: 'model' },
      'near-duplicate-prompts': { fingerprint: 'fingerprint' },
      'shortest-identifier-chain': { fromAccountId: 'account', toAccountId: 'account' },
      'signup-bursts': { from: 'datetime', to: 'datetime' },
    });
    // No shipped investigation takes free text: each value it looks up has a type.
    for (const inv of catalog.values())
      for (const p of inv.params) expect([inv.name, p.name, p.type]).not.toContain('string');
  });

  it('all parse, and the seven required ones are there', () => {
    const catalog = loadInvestigations(loadCypher());
    expect([...catalog.keys()].sort()).toEqual(
      expect.arrayContaining([
        'accounts-sharing-payment-method',
        'cluster-strongest-identifiers',
        'ip-neighbourhood',
        'model-migration',
        'near-duplicate-prompts',
        'shortest-identifier-chain',
        'signup-bursts',
      ]),
    );
    // The three whose rows are one kind of link each mark them aged; the chain and the
    // cluster's shared values their own way.
    const aged = [...catalog.values()].filter((i) => i.aged).map((i) => [i.name, i.aged?.kind]);
    expect(aged.sort()).toEqual([
      ['accounts-sharing-payment-method', 'payment'],
      ['cluster-strongest-identifiers', 'shared'],
      ['ip-neighbourhood', 'ip'],
      ['near-duplicate-prompts', 'prompt'],
      ['shortest-identifier-chain', 'each'],
    ]);
  });
});
