/** A process's peak resident memory, for reports and benchmarks. */
import { readFileSync } from 'node:fs';

/** Peak RSS (VmHWM) of `pid` in MiB, from /proc; undefined where it cannot be read. */
export function peakRssMiB(pid: number | 'self'): number | undefined {
  try {
    const kib = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kib === undefined ? undefined : Math.round(Number(kib) / 1024);
  } catch {
    return undefined;
  }
}
