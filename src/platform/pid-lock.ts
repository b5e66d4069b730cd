/**
 * A lock file holding its holder's pid and host, for work that two processes must not do
 * at once in one place: a first load into a data directory (a second would delete the
 * first's staging folder under its running import, and the first would then move the
 * second's near-empty one into place and report success), a simulation into a folder
 * (two would write one `.partial` file, and the first to finish would rename the mix
 * into place). Found by reviews.
 *
 * A lock whose holder on this machine is gone (or is this very pid: a container
 * restarted after its work was killed) is taken over, as is one left empty or
 * unreadable for a few seconds (a crash while writing it); a live holder's is refused.
 * Taking over goes through a second file, `<lock>.takeover`, created exclusively: two
 * processes that found the same stale lock at once would otherwise both remove it and
 * both create their own (the second removing the first's). A takeover file left by a
 * process that died in those milliseconds is not removed here: two that found it at
 * once could not both remove it safely either. The error names it, to remove by hand.
 */
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { pidAlive, takeOverStale } from './stale-lock';

/** A lock (or takeover) file this old and still empty or unreadable was left by a crash. */
const UNFINISHED_MS = 5_000;

/** Locks this process holds: its own pid in a lock file is live only if listed here. */
const held = new Set<string>();

export interface LockHooks {
  /** called between judging the lock stale and taking it over (tests make races here) */
  beforeTakeover?: () => void;
}

/**
 * Takes the lock or throws; returns its release. `work` names what the lock guards in
 * its errors, e.g. `--first-load into /data`.
 */
export function takePidLock(path: string, work: string, hooks: LockHooks = {}): () => void {
  // Absolute: `held` knows this process's locks by path, and `dir` and `/abs/dir` are one
  // lock (review, 12-07: a second simulate() in one process took the first's over).
  const lockPath = resolve(path);
  const me = `${process.pid} ${hostname()}\n`;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (create(lockPath, me)) {
      held.add(lockPath);
      return () => {
        held.delete(lockPath);
        rmSync(lockPath, { force: true });
      };
    }
    const seen = read(lockPath);
    if (seen === undefined) continue; // released meanwhile: try again
    if (isLive(lockPath, seen)) throw busy(lockPath, seen, work);
    hooks.beforeTakeover?.();
    takeOver(lockPath, seen, work);
  }
  throw busy(lockPath, read(lockPath) ?? '', work);
}

/** Removes the stale lock `seen` if it is still that one (stale-lock.ts), or says why not. */
function takeOver(lockPath: string, seen: string, work: string): void {
  const outcome = takeOverStale(lockPath, seen, () => read(lockPath));
  if (outcome === 'busy')
    throw new Error(
      `another ${work} is taking over the stale lock ${lockPath}; try again in a moment`,
    );
  if (outcome === 'abandoned')
    throw new Error(
      `a ${work} died while taking over the stale lock ${lockPath}: if none is running, ` +
        `remove ${lockPath}.takeover and ${lockPath}`,
    );
}

function isLive(lockPath: string, text: string): boolean {
  const [pid, host] = text.trim().split(' ');
  const holder = Number(pid);
  if (!Number.isInteger(holder) || holder <= 0 || host === undefined)
    return (ageMs(lockPath) ?? Infinity) < UNFINISHED_MS; // perhaps being written now
  if (host !== hostname()) return true; // another machine's: cannot tell, so live
  return holder === process.pid ? held.has(lockPath) : pidAlive(holder);
}

function busy(lockPath: string, text: string, work: string): Error {
  const [pid, host] = text.trim().split(' ');
  const who = pid && host ? `pid ${pid} on ${host}` : 'its lock is being written';
  return new Error(
    `another ${work} is running (${who}); wait for it, or remove ${lockPath} if it is gone`,
  );
}

/** Creates `file` exclusively with `text`; false when it exists. */
function create(file: string, text: string): boolean {
  try {
    writeFileSync(file, text, { flag: 'wx' });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function ageMs(file: string): number | undefined {
  try {
    return Date.now() - statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}
