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
