/**
 * The launcher's build lock, broken as stale by two waiters at once: the second must not
 * remove the lock the first made meanwhile (review, 12-05: both then ran Maven into one
 * target/). The race is made with the hook between judging the lock stale and breaking it.
 */
import fs from 'node:fs';
import os from 'node:os';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { acquireLock } from '../../../src/platform/neo4j-local';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coterie-build-lock-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A pid no process has: its lock is stale once older than 2 s. */
function deadPid(): number {
  for (let pid = 4_000_000; ; pid--) {
    try {
      process.kill(pid, 0);
    } catch {
      return pid;
    }
  }
}

it('a waiter that judged a lock stale leaves the lock another waiter took meanwhile', async () => {
  const lock = path.join(dir, 'build.lock');
  fs.writeFileSync(lock, `${deadPid()} 2026-01-01T00:00:00Z\n`);
  const old = new Date(Date.now() - 10_000);
  fs.utimesSync(lock, old, old);
  const theirs = `${process.pid} the other waiter\n`;
  let raced = false;
  const logs: string[] = [];
  const taking = acquireLock(lock, (m) => logs.push(m), {
    beforeBreak: () => {
      if (raced) return;
      raced = true;
      // the other waiter broke the stale lock and took its own, between our judging
      // it stale and our breaking it
      fs.rmSync(lock);
      fs.writeFileSync(lock, theirs);
    },
  });
  // ours waits on theirs (a live pid, this process): theirs is still in place
  await new Promise((r) => setTimeout(r, 700));
  expect(raced).toBe(true);
  expect(fs.readFileSync(lock, 'utf8')).toBe(theirs);
  expect(fs.existsSync(`${lock}.takeover`)).toBe(false);
  // theirs released: ours is taken
  fs.rmSync(lock);
  const release = await taking;
  expect(fs.readFileSync(lock, 'utf8')).toMatch(new RegExp(`^${process.pid} `));
  release();
  expect(fs.existsSync(lock)).toBe(false);
  expect(logs).toEqual(
    expect.arrayContaining(['neo4j-local: another process is building the launcher, waiting']),
  );
});

it('breaks a stale lock no one else is taking', async () => {
  const lock = path.join(dir, 'build.lock');
  fs.writeFileSync(lock, `${deadPid()} 2026-01-01T00:00:00Z\n`);
  const old = new Date(Date.now() - 10_000);
  fs.utimesSync(lock, old, old);
  const release = await acquireLock(lock, () => undefined);
  expect(fs.readFileSync(lock, 'utf8')).toMatch(new RegExp(`^${process.pid} `));
  release();
});

it('a lock path that cannot be read fails at once, not in a loop that never yields (review, 12-05)', async () => {
  const lock = path.join(dir, 'build.lock');
  fs.mkdirSync(lock); // EISDIR on read: it spun synchronously, forever
  await expect(acquireLock(lock, () => undefined)).rejects.toMatchObject({ code: 'EISDIR' });
});

it('a waiter stopped (Ctrl-C) while another process builds stops waiting (review, 12-06)', async () => {
  const lock = path.join(dir, 'build.lock');
  fs.writeFileSync(lock, `${process.pid} a live builder\n`); // held, and not stale
  const stop = new AbortController();
  const logs: string[] = [];
  const waiting = acquireLock(lock, (m) => logs.push(m), { signal: stop.signal });
  await new Promise((r) => setTimeout(r, 100));
  const asked = Date.now();
  stop.abort();
  await expect(waiting).rejects.toThrow(/the launcher build was stopped/);
  expect(Date.now() - asked).toBeLessThan(2000); // within a poll, not the build's 20 min
  expect(logs).toEqual(['neo4j-local: another process is building the launcher, waiting']);
  expect(fs.readFileSync(lock, 'utf8')).toBe(`${process.pid} a live builder\n`); // not ours to free
});

it('a lock whose holder is gone but whose Maven still runs waits for Maven to end', async () => {
  // the holder killed outright (SIGKILL) mid-build: its Maven, orphaned, still writes target/
  const maven = spawn('sleep', ['2'], { stdio: 'ignore' });
  const ended = new Promise<number>((r) => maven.on('exit', () => r(Date.now())));
  const lock = path.join(dir, 'build.lock');
  const theirs = `${deadPid()} 2026-01-01T00:00:00Z\nmaven ${maven.pid}\n`;
  fs.writeFileSync(lock, theirs);
  const old = new Date(Date.now() - 10_000);
  fs.utimesSync(lock, old, old);
  const logs: string[] = [];
  const taking = acquireLock(lock, (m) => logs.push(m));
  await new Promise((r) => setTimeout(r, 700));
  expect(fs.readFileSync(lock, 'utf8')).toBe(theirs); // not broken while Maven runs
  const release = await taking;
  const taken = Date.now();
  expect(taken).toBeGreaterThanOrEqual(await ended);
  expect(fs.readFileSync(lock, 'utf8')).toMatch(new RegExp(`^${process.pid} `));
  release();
  expect(logs).toEqual([
    `neo4j-local: the process that was building the launcher is gone but its Maven (pid ${maven.pid}) still runs; waiting for it to end`,
    'neo4j-local: breaking stale build lock ' + lock,
  ]);
}, 30_000); // ~2.5 s alone: Maven's 2 s, then a poll of 500 ms; more on a loaded machine
