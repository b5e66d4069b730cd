/** A process's resident memory, from /proc, for reports and benchmarks. */
import { readFileSync } from 'node:fs';

/** `field` of /proc/<pid>/status in KiB (VmHWM: peak RSS; VmRSS: now); 0 where it cannot be read. */
export function statusKiB(pid: number | 'self', field: 'VmHWM' | 'VmRSS'): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Peak RSS (VmHWM) of `pid` in MiB, from /proc; undefined where it cannot be read. */
export function peakRssMiB(pid: number | 'self'): number | undefined {
  const kib = statusKiB(pid, 'VmHWM');
  return kib === 0 ? undefined : Math.round(kib / 1024);
}
