/** Every config key is in README's table with the default the schema gives it. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { configSchema, loadConfig } from '../../../src/platform/config';

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
      for (const bad of ['lots', '2 g', '0', '-1g', '2gb']) {
        expect(() => loadConfig({ [key]: bad })).toThrow(key);
      }
      for (const good of ['512m', '2g', '2G', '1048576k', '1073741824']) {
        expect(loadConfig({ [key]: good })[key as 'NEO4J_LOCAL_HEAP']).toBe(good);
      }
    },
  );

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
});
