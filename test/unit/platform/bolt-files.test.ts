/** bolt.uri and bolt.password: written for the running Neo4j, gone when it or this process ends. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  BOLT_PASSWORD_FILE,
  BOLT_URI_FILE,
  writeBoltFiles,
} from '../../../src/platform/neo4j-local';

const root = path.join(__dirname, '../../..');
let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coterie-bolt-files-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const files = () =>
  [BOLT_URI_FILE, BOLT_PASSWORD_FILE].filter((f) => fs.existsSync(path.join(dir, f)));

describe('writeBoltFiles', () => {
  it('writes the URI and the password (0600); the removal removes both, once', () => {
    const remove = writeBoltFiles(dir, 'bolt://127.0.0.1:7687', 'secret');
    expect(fs.readFileSync(path.join(dir, BOLT_URI_FILE), 'utf8')).toBe('bolt://127.0.0.1:7687\n');
    expect(fs.readFileSync(path.join(dir, BOLT_PASSWORD_FILE), 'utf8')).toBe('secret\n');
    expect(fs.statSync(path.join(dir, BOLT_PASSWORD_FILE)).mode & 0o777).toBe(0o600);
    remove();
    expect(files()).toEqual([]);
    // Another Neo4j's files, written after this one exited: a second call leaves them.
    const removeNext = writeBoltFiles(dir, 'bolt://127.0.0.1:7688', 'other');
    remove();
    expect(files()).toEqual([BOLT_URI_FILE, BOLT_PASSWORD_FILE]);
    removeNext();
  });

  it('removes them when the process exits through process.exit(), Neo4j still running', () => {
    // As main() failing after connect (a migration checksum mismatch): process.exit(1)
    // comes before the launcher's exit promise could settle.
    const script = [
      `const { writeBoltFiles } = require(${JSON.stringify(path.join(root, 'src/platform/neo4j-local.ts'))});`,
      `writeBoltFiles(${JSON.stringify(dir)}, 'bolt://127.0.0.1:7687', 'secret');`,
      `void new Promise(() => {});`,
      `process.exit(1);`,
    ].join('\n');
    const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(child.stderr).toBe('');
    expect(child.status).toBe(1);
    expect(files()).toEqual([]);
  });
});
