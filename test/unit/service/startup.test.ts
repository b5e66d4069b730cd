/**
 * The service process (src/main.ts) before it reaches Neo4j: what a bad configuration
 * prints, without Neo4j or a port involved.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.join(__dirname, '../../..');

/** src/main.ts as `node dist/src/main.js` runs it, with `env` over this environment. */
function startService(env: Record<string, string>) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, API_KEYS: '', LINKAGE_CRON: 'off', ...env },
  });
}

describe('a configuration error', () => {
  it.each([
    ['NEO4J_URI', 'localhost:7687', 'Invalid configuration:\n  NEO4J_URI: a bolt:// or neo4j://'],
    ['PORT', 'http', 'Invalid configuration:\n  PORT: '],
    ['LINKAGE_ALLOWLIST', 'nope', 'LINKAGE_ALLOWLIST entry "nope" must be kind:value'],
    ['LINKAGE_WEIGHTS', '{"build":{"nope":1}}', 'Invalid LINKAGE_WEIGHTS:'],
    ['LINKAGE_CRON', 'every day', 'LINKAGE_CRON "every day" is not a cron pattern'],
    ['API_KEYS', 'ops:admin', 'API_KEYS entry 1 must be name:role:sha256hex'],
  ])('in %s stops start-up with its message alone, no stack trace', (key, value, message) => {
    const child = startService({ [key]: value });
    expect(child.status).toBe(1);
    expect(child.stderr.startsWith(message)).toBe(true);
    expect(child.stderr).not.toMatch(/^\s+at /m);
    expect(child.stdout).toBe('');
  });
});
