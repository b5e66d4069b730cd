/**
 * A reader that is gone before the command prints its result (`coterie simulate … | true`):
 * the work is done, so the command ends as it would have, not with EPIPE's stack trace.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const CLI = path.join(__dirname, '../../../src/cli/main.ts');
const dir = mkdtempSync(path.join(tmpdir(), 'coterie-stdout-closed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('exits 0 without a stack trace when stdout is closed before the result (review, 12-07)', async () => {
  const out = path.join(dir, 'sim');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', CLI, 'simulate', '--scale', '0.00001', '--out', out],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout.destroy(); // the reader is gone before anything is written
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise((resolve) => child.on('exit', (c) => resolve(c)));
  expect(code).toBe(0);
  expect(stderr).not.toMatch(/EPIPE|Unhandled|\n\s+at /); // no stack trace
  for (const f of ['events.jsonl', 'truth.csv', 'params.json'])
    expect([f, existsSync(path.join(out, f))]).toEqual([f, true]);
}, 60_000);
