/**
 * Breaking a lock file judged stale (its holder gone), shared by the launcher's build
 * lock and the first load's lock. Two processes that judged the same lock stale would
 * otherwise both remove it, and the second would remove the lock the first had made
 * meanwhile: both then hold it. So the removal goes through `<lock>.takeover`, created
 * exclusively, and removes the lock only if it is still the one judged stale.
 */
import fs from 'node:fs';

/** Whether a process of this machine with that pid exists (EPERM: it does, not ours). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A takeover takes milliseconds; one this old was left by a process that died in it. */
export const TAKEOVER_STALE_MS = 10_000;

/**
 * `retry`: the stale lock is gone (removed here, or by another process): read the lock
 * again. `busy`: another process is taking it over now. `abandoned`: a takeover file left
 * by a process that died in it, which only a person can safely remove.
 */
export type Takeover = 'retry' | 'busy' | 'abandoned';

/**
 * Removes the lock at `lockPath` if `current()` (how the caller identifies a lock; undefined
 * when there is none) still equals `seen`, the lock judged stale.
 */
export function takeOverStale(
  lockPath: string,
  seen: string,
  current: () => string | undefined,
): Takeover {
  const takeover = `${lockPath}.takeover`;
  try {
    fs.writeFileSync(takeover, `${process.pid}\n`, { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    let age: number;
    try {
      age = Date.now() - fs.statSync(takeover).mtimeMs;
    } catch {
      return 'retry'; // done meanwhile
    }
    return age < TAKEOVER_STALE_MS ? 'busy' : 'abandoned';
  }
  try {
    if (current() === seen) fs.rmSync(lockPath, { force: true });
  } finally {
    fs.rmSync(takeover, { force: true });
  }
  return 'retry';
}
