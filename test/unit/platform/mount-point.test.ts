import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isMountPoint, mountPoints } from '../../../src/platform/mount-point';

describe('mount points', () => {
  it('reads the fifth field of mountinfo, octal escapes undone', () => {
    const text = [
      '21 26 0:20 / /proc rw,relatime - proc proc rw',
      '45 44 254:0 /tmp/b5 /srv/my\\040data rw,relatime - ext4 /dev/vda rw',
      '',
    ].join('\n');
    expect([...mountPoints(text)]).toEqual(['/proc', '/srv/my data']);
  });

  it('finds a bind mount from the same file system through mountinfo', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'coterie-mount-'));
    try {
      expect(isMountPoint(dir, '')).toBe(false);
      const real = realpathSync(dir); // as mountinfo lists it, a symlinked TMPDIR resolved
      expect(isMountPoint(dir, `45 44 254:0 /x ${real} rw - ext4 /dev/vda rw\n`)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('knows the root and /proc for what they are, on this machine', () => {
    expect(isMountPoint('/')).toBe(true);
    expect(isMountPoint('/proc')).toBe(true); // another device than /
    const dir = mkdtempSync(path.join(tmpdir(), 'coterie-mount-'));
    try {
      expect(isMountPoint(dir)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});
