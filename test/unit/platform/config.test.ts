/** Every config key is in README's table with the default the schema gives it. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  ConfigError,
  MAX_TIMER_MS,
  configSchema,
  loadConfig,
  unknownSettings,
  warnUnknownSettings,
} from '../../../src/platform/config';
import { QUERY_DEADLINE_GRACE_MS } from '../../../src/platform/neo4j';

const readme = readFileSync(path.join(__dirname, '../../../README.md'), 'utf8');

/** `| \`KEY\` | default | meaning |` rows of the Configuration table. */
const rows = new Map(
  [...readme.matchAll(/^\| `([A-Z0-9_]+)` +\| ([^|]+)\|/gm)].map((m) => [m[1], m[2]!.trim()]),
);

describe('configuration in README', () => {
  const defaults = loadConfig({}) as Record<string, unknown>;

  it.each(Object.keys(configSchema.shape))('%s has a row with its default', (key) => {
    expect(rows.has(key)).toBe(true);
    const value = defaults[key];
    const documented = rows.get(key)!;
    if (value === undefined || value === '') expect(documented).not.toMatch(/^`/);
    else expect(documented).toBe(`\`${String(value)}\``);
  });
});

describe('checked up front', () => {
  it.each(['NEO4J_LOCAL_HEAP', 'NEO4J_LOCAL_PAGECACHE'])(
    '%s must be a JVM size: refused before any JVM starts, naming the key',
    (key) => {
      // The launcher reads bare digits as bytes and knows no t; -Xmx reads them alike.
      for (const bad of ['lots', '2 g', '0', '-1g', '2gb', '2048', '1073741824', '1t']) {
        expect(() => loadConfig({ [key]: bad })).toThrow(key);
      }
      for (const good of ['512m', '2g', '2G', '1048576k', '64K', '512M']) {
        expect(loadConfig({ [key]: good })[key as 'NEO4J_LOCAL_HEAP']).toBe(good);
      }
    },
  );

  it('NEO4J_LOCAL_START_TIMEOUT_MS is 3 min unless set, at least a second', () => {
    expect(loadConfig({}).NEO4J_LOCAL_START_TIMEOUT_MS).toBe(180_000);
    expect(
      loadConfig({ NEO4J_LOCAL_START_TIMEOUT_MS: '900000' }).NEO4J_LOCAL_START_TIMEOUT_MS,
    ).toBe(900_000);
    expect(() => loadConfig({ NEO4J_LOCAL_START_TIMEOUT_MS: '999' })).toThrow(
      /NEO4J_LOCAL_START_TIMEOUT_MS/,
    );
  });

  it('NEO4J_LOCAL_GC is g1 or parallel, naming the key otherwise', () => {
    expect(loadConfig({}).NEO4J_LOCAL_GC).toBe('g1');
    expect(loadConfig({ NEO4J_LOCAL_GC: 'parallel' }).NEO4J_LOCAL_GC).toBe('parallel');
    for (const bad of ['G1', 'zgc', 'ParallelGC', ' g1']) {
      expect(() => loadConfig({ NEO4J_LOCAL_GC: bad })).toThrow('NEO4J_LOCAL_GC');
    }
  });

  it.each(['PORT', 'NEO4J_LOCAL_BOLT_PORT'])('%s must be a TCP port (0 = any free one)', (key) => {
    for (const bad of ['99999', '65536', '-1', 'abc', '80.5']) {
      expect(() => loadConfig({ [key]: bad })).toThrow(key);
    }
    for (const good of ['0', '80', '65535']) {
      expect(loadConfig({ [key]: good })[key as 'PORT']).toBe(Number(good));
    }
  });

  it('LINKAGE_SEED is a 32-bit seed: a larger one would wrap to another seed silently', () => {
    expect(loadConfig({ LINKAGE_SEED: '4294967295' }).LINKAGE_SEED).toBe(4294967295);
    expect(() => loadConfig({ LINKAGE_SEED: '4294967338' })).toThrow('LINKAGE_SEED');
    expect(() => loadConfig({ LINKAGE_SEED: '-1' })).toThrow('LINKAGE_SEED');
  });

  it('an empty value is unset: the default, not 0 or ""', () => {
    const defaults = loadConfig({});
    const empty = loadConfig({
      PORT: '',
      INGEST_EVENT_ID_RETENTION_DAYS: '',
      LINKAGE_CRON: '',
      NEO4J_LOCAL_HEAP: '',
    });
    expect(empty.PORT).toBe(defaults.PORT);
    expect(empty.PORT).not.toBe(0);
    expect(empty.INGEST_EVENT_ID_RETENTION_DAYS).toBe(defaults.INGEST_EVENT_ID_RETENTION_DAYS);
    expect(empty.INGEST_EVENT_ID_RETENTION_DAYS).toBeGreaterThan(0);
    expect(empty.LINKAGE_CRON).toBe(defaults.LINKAGE_CRON);
    expect(empty.NEO4J_LOCAL_HEAP).toBe(defaults.NEO4J_LOCAL_HEAP);
  });

  it('a blank value (whitespace only) is unset too, not 0', () => {
    const defaults = loadConfig({});
    const blank = loadConfig({
      PORT: ' ',
      LINKAGE_SEED: '\t',
      INGEST_EVENT_ID_RETENTION_DAYS: '  ',
      MEMBERSHIP_INDEX_MAX_ACCOUNTS: '\n',
      RISK_THRESHOLD: ' ',
      NEO4J_LOCAL_HEAP: ' ',
    });
    expect(blank).toEqual(defaults);
  });

  it('integer settings take plain decimal digits only, naming the key', () => {
    for (const bad of ['0x1F90', '1e3', '8080.0', '+80', '-0', '0b1', '8_080', 'Infinity']) {
      expect(() => loadConfig({ PORT: bad })).toThrow(/PORT: a whole number in decimal digits/);
    }
    expect(() => loadConfig({ INGEST_MAX_EVENTS: '1e4' })).toThrow('INGEST_MAX_EVENTS');
    expect(() => loadConfig({ LINKAGE_SEED: '0x2A' })).toThrow('LINKAGE_SEED');
    expect(loadConfig({ PORT: ' 8081 ' }).PORT).toBe(8081);
    expect(loadConfig({ PORT: '08081' }).PORT).toBe(8081);
    expect(loadConfig({ INGEST_EVENT_ID_RETENTION_DAYS: '0' }).INGEST_EVENT_ID_RETENTION_DAYS).toBe(
      0,
    );
  });

  it('fractional settings take finite decimals only', () => {
    expect(loadConfig({ RISK_THRESHOLD: '0.5' }).RISK_THRESHOLD).toBe(0.5);
    expect(loadConfig({ RISK_THRESHOLD: '1' }).RISK_THRESHOLD).toBe(1);
    expect(loadConfig({ LINKAGE_RESOLUTION: ' 1.25 ' }).LINKAGE_RESOLUTION).toBe(1.25);
    // as the old coercion read them (review: `.5` stopped start-up)
    expect(loadConfig({ RISK_THRESHOLD: '.5' }).RISK_THRESHOLD).toBe(0.5);
    expect(loadConfig({ LINKAGE_RESOLUTION: '2.' }).LINKAGE_RESOLUTION).toBe(2);
    for (const bad of ['Infinity', '1e400', '0x1', '1e-1', '.', '-0.5', 'NaN']) {
      expect(() => loadConfig({ RISK_THRESHOLD: bad })).toThrow('RISK_THRESHOLD');
      expect(() => loadConfig({ LINKAGE_RESOLUTION: bad })).toThrow('LINKAGE_RESOLUTION');
    }
    expect(() => loadConfig({ LINKAGE_RESOLUTION: '1'.repeat(400) })).toThrow('LINKAGE_RESOLUTION');
    expect(() => loadConfig({ LINKAGE_RESOLUTION: '0' })).toThrow('LINKAGE_RESOLUTION');
  });

  const msKeys = Object.keys(configSchema.shape).filter((k) => k.endsWith('_MS'));

  it('there are *_MS settings to cap', () => {
    expect(msKeys).toEqual(
      expect.arrayContaining(['CURRENT_RUN_CHECK_MS', 'LINKAGE_LEASE_TTL_MS', 'QUERY_TIMEOUT_MS']),
    );
  });

  // A setting the service adds to before it sets a timer is capped lower by that much.
  const longest: Record<string, number> = {
    QUERY_TIMEOUT_MS: MAX_TIMER_MS - QUERY_DEADLINE_GRACE_MS,
  };

  it.each(msKeys)(
    '%s stays within the longest timer Node keeps (2^31 - 1 ms): longer would fire every 1 ms',
    (key) => {
      expect(MAX_TIMER_MS).toBe(2 ** 31 - 1);
      const max = longest[key] ?? MAX_TIMER_MS;
      expect(loadConfig({ [key]: String(max) })[key as 'QUERY_TIMEOUT_MS']).toBe(max);
      for (const bad of [String(max + 1), '3000000000', '12884901888']) {
        expect(() => loadConfig({ [key]: bad })).toThrow(new RegExp(`${key}: at most ${max} ms`));
      }
    },
  );
});

describe('NEO4J_URI', () => {
  it('takes a bolt:// or neo4j:// URI, with +s or +ssc for TLS', () => {
    for (const good of [
      'bolt://localhost:7687',
      'bolt://127.0.0.1',
      'neo4j://db.example.com:7687',
      'bolt+s://db.example.com',
      'neo4j+s://abcd1234.databases.neo4j.io',
      'bolt+ssc://[::1]:7687',
      'neo4j+ssc://db:7687',
    ]) {
      expect(loadConfig({ NEO4J_URI: good }).NEO4J_URI).toBe(good);
    }
  });

  it('refuses anything else at start-up, naming the key (not the driver\'s "Unknown scheme")', () => {
    for (const bad of [
      'localhost:7687',
      '127.0.0.1',
      'http://localhost:7474',
      'bolt+x://localhost',
      'bolt://',
      'bolt:localhost',
      'Bolt://localhost',
    ]) {
      expect(() => loadConfig({ NEO4J_URI: bad })).toThrow(/NEO4J_URI: a bolt:\/\/ or neo4j:\/\//);
    }
  });

  it('is a ConfigError, which the service prints without a stack', () => {
    expect(() => loadConfig({ NEO4J_URI: 'localhost:7687' })).toThrow(ConfigError);
  });

  it('refuses a user or password in the URI, whose text is logged, without quoting it (review, 12-05)', () => {
    for (const bad of ['bolt://neo4j:s3cret@db:7687', 'neo4j+s://admin@db', 'bolt://:s3cret@db']) {
      let message = '';
      try {
        loadConfig({ NEO4J_URI: bad });
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/NEO4J_URI: no user or password in the URI/);
      expect(message).not.toContain('s3cret');
    }
  });
});

describe('settings that are no setting', () => {
  it('names a misspelt key that starts like a setting, and leaves other variables alone (review, 12-05)', () => {
    const env = {
      LINKAGE_ALLOW_LIST: 'ip:10.0.0.1', // LINKAGE_ALLOWLIST meant
      API_RATE_LIMIT: '60',
      LINKAGE_SEED: '7',
      PATH: '/usr/bin',
      HOSTNAME: 'box',
      NODE_OPTIONS: '',
      NEO4J_LOCAL_DEBUG: '1', // the launcher's, which it inherits
      NEO4J_LOCAL_VERBOSE: '1', // the test suite's
      NEO4J_LOCAL_DEBUGG: '1',
    };
    expect(unknownSettings(env)).toEqual([
      'API_RATE_LIMIT',
      'LINKAGE_ALLOW_LIST',
      'NEO4J_LOCAL_DEBUGG',
    ]);
    const warned: unknown[] = [];
    warnUnknownSettings({ warn: (obj, msg) => warned.push([obj, msg]) }, env);
    expect(warned).toEqual([
      [
        { unknown: ['API_RATE_LIMIT', 'LINKAGE_ALLOW_LIST', 'NEO4J_LOCAL_DEBUGG'] },
        expect.stringContaining('ignored'),
      ],
    ]);
    warnUnknownSettings({ warn: (obj, msg) => warned.push([obj, msg]) }, { LINKAGE_SEED: '7' });
    expect(warned).toHaveLength(1);
  });
});
