/**
 * The first load's lock file: taken, refused while its holder lives, taken over when
 * its holder is gone, and never by two loaders that found the same stale lock at once.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { type LockHooks, takePidLock } from '../../../src/platform/pid-lock';

let dir: string;
let lock: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'pid-lock-'));
  lock = path.join(dir, 'db.first-load.lock');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A pid that was alive a moment ago and is not now. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '0']);
  return child.pid as number;
}
const mine = `${process.pid} ${hostname()}\n`;
const old = (file: string, seconds: number) => {
  const t = new Date(Date.now() - seconds * 1000);
  utimesSync(file, t, t);
};

const take = (lockPath: string, hooks?: LockHooks) =>
  takePidLock(lockPath, '--first-load into db', hooks);

describe('takePidLock', () => {
  it('is one lock however its path is written (review, 12-07)', () => {
    // This process's own pid in a lock is live only if it holds that lock: by one
    // spelling, another spelling of the same path took it over.
    const release = take(path.relative(process.cwd(), lock));
    expect(() => take(lock)).toThrow(/another --first-load into .*db is running/);
    expect(() => take(path.join(dir, '.', 'db.first-load.lock'))).toThrow(/is running/);
    release();
    expect(existsSync(lock)).toBe(false);
  });

  it('writes this pid and host, refuses a second taker while held, and is gone once released', () => {
    const release = take(lock);
    expect(readFileSync(lock, 'utf8')).toBe(mine);
    expect(() => take(lock)).toThrow(/another --first-load into .*db is running/);
    release();
    expect(existsSync(lock)).toBe(false);
    take(lock)();
  });

  it('refuses a live holder on this machine and any holder on another', () => {
    writeFileSync(lock, `${process.ppid} ${hostname()}\n`);
    expect(() => take(lock)).toThrow(`pid ${process.ppid} on ${hostname()}`);
    writeFileSync(lock, `${deadPid()} some-other-host\n`);
    expect(() => take(lock)).toThrow('on some-other-host');
  });

  it('takes over a dead holder’s lock, and one naming this pid that this process does not hold', () => {
    writeFileSync(lock, `${deadPid()} ${hostname()}\n`);
    const release = take(lock);
    expect(readFileSync(lock, 'utf8')).toBe(mine);
    expect(existsSync(`${lock}.takeover`)).toBe(false);
    release();
    writeFileSync(lock, mine); // a container restarted with the same pid
    const again = take(lock);
    expect(existsSync(lock)).toBe(true);
    again();
    expect(existsSync(lock)).toBe(false);
  });

  it('waits for an empty lock to be written, and takes it over once it is old', () => {
    writeFileSync(lock, '');
    expect(() => take(lock)).toThrow('its lock is being written');
    old(lock, 6);
    const release = take(lock);
    expect(readFileSync(lock, 'utf8')).toBe(mine);
    release();
  });

  it('lets only one of two loaders that found the same stale lock take it', () => {
    writeFileSync(lock, `${deadPid()} ${hostname()}\n`);
    // The other loader judged the same lock stale and took it over just before this one.
    const other = `${process.ppid} ${hostname()}\n`;
    const race = () => {
      rmSync(lock);
      writeFileSync(lock, other);
    };
    expect(() => take(lock, { beforeTakeover: race })).toThrow(`pid ${process.ppid} on`);
    expect(readFileSync(lock, 'utf8')).toBe(other); // the other's lock is left alone
  });

  it('refuses while another loader is taking over, and names a takeover its taker died in', () => {
    writeFileSync(lock, `${deadPid()} ${hostname()}\n`);
    writeFileSync(`${lock}.takeover`, `${process.ppid} ${hostname()}\n`);
    expect(() => take(lock)).toThrow(/is taking over the stale lock/);
    expect(existsSync(lock)).toBe(true);
    // Left by a taker that died: removing it here could remove a live taker's (two
    // loaders that judged it stale at once), so it is left for a person to remove.
    old(`${lock}.takeover`, 11);
    expect(() => take(lock)).toThrow(
      `a --first-load into db died while taking over the stale lock ${lock}: if none is running, remove ${lock}.takeover and ${lock}`,
    );
    expect(existsSync(`${lock}.takeover`)).toBe(true);
    rmSync(`${lock}.takeover`);
    const release = take(lock);
    expect(readFileSync(lock, 'utf8')).toBe(mine);
    release();
  });
});
