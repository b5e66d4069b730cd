/**
 * Whether a directory is a mount point. A mount point cannot be removed or renamed over
 * (EBUSY), so work that builds a directory beside its target and moves it in must know.
 * A different device from the parent's catches most; /proc/self/mountinfo also catches a
 * bind mount from the same file system.
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';

export function isMountPoint(dir: string, mountinfo = readMountinfo()): boolean {
  const real = realpathSync(dir);
  const parent = path.dirname(real);
  if (parent !== real && statSync(parent).dev !== statSync(real).dev) return true;
  return real === '/' || mountPoints(mountinfo).has(real);
}

/** The mount points listed in mountinfo text (its fifth field, octal escapes undone). */
export function mountPoints(mountinfo: string): Set<string> {
  const points = new Set<string>();
  for (const line of mountinfo.split('\n')) {
    const field = line.split(' ')[4];
    if (field)
      points.add(field.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8))));
  }
  return points;
}

function readMountinfo(): string {
  try {
    return readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return ''; // not Linux: the device check alone
  }
}
