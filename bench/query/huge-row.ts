/**
 * What one huge row costs the service (security review, 12-04): the driver receives a
 * whole record and decodes it synchronously before runCapped can measure it, so a list
 * Neo4j streams lazily (`RETURN range(1, n)`) holds the service's event loop for the
 * whole decode, past the query's deadline, and takes its heap. Measured against the
 * built service in its own process, as shipped, with a fresh embedded Neo4j:
 *
 *   npm run build && npx tsx bench/query/huge-row.ts [--sizes 1000000,5000000]
 *
 * Prints, per list size: the console's answer and its time, the longest wait for
 * `/healthz` (asked every 100 ms) while it ran, and the service's peak RSS (VmHWM) for
 * that size alone: the peak is reset before each size (clear_refs), or else each row
 * would be the largest of all sizes so far. The reset starts it at the RSS the service
 * holds then (printed too), which can include what the previous size left.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLocalNeo4j } from '../../src/platform/neo4j-local';
import { statusKiB } from '../../src/platform/peak-rss';
import { freePort, SERVICE_MAIN as MAIN, spawnService, waitReady } from '../service';
import { benchArgs, runBench, wholeOption } from '../options';

const statusMiB = (pid: number, field: 'VmHWM' | 'VmRSS'): number =>
  Math.round(statusKiB(pid, field) / 1024);

/** Resets the process's VmHWM to its current RSS; false where the kernel refuses. */
function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const args = benchArgs(__filename, { sizes: { type: 'string', default: '1000000,5000000' } });
  const sizes = args.sizes.split(',').map((text) => wholeOption('sizes', text));
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'coterie-bench-huge-row-'));
  const local = await startLocalNeo4j({ dataDir, port: 0, heap: '1g', pagecache: '256m' });
  let service: ChildProcess | undefined;
  try {
    const port = await freePort();
    // The local admin: the console is open to it as to analysts.
    service = spawnService(local, port, 'warn', ['ignore', 'ignore', 'inherit']);
    const url = `http://127.0.0.1:${port}`;
    await waitReady(url);
    for (const n of sizes) {
      const peakReset = resetPeak(service.pid!);
      const rssAtStartMiB = statusMiB(service.pid!, 'VmRSS');
      let running = true;
      let longest = 0;
      const probe = (async () => {
        while (running) {
          const asked = Date.now();
          await fetch(`${url}/healthz`).catch(() => undefined);
          longest = Math.max(longest, Date.now() - asked);
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      const started = Date.now();
      const res = await fetch(`${url}/v1/cypher`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: `RETURN range(1, ${n}) AS r` }),
      });
      const body = (await res.json()) as { error?: { code: string }; truncated?: boolean };
      const ms = Date.now() - started;
      running = false;
      await probe;
      console.log(
        JSON.stringify({
          listSize: n,
          status: res.status,
          answer: body.error?.code ?? `truncated: ${String(body.truncated)}`,
          answerMs: ms,
          longestHealthzWaitMs: longest,
          servicePeakRssMiB: statusMiB(service.pid!, 'VmHWM'),
          // false: the peak is the largest since the service started, not this size's own
          peakReset,
          rssAtStartMiB,
        }),
      );
    }
  } finally {
    service?.kill('SIGTERM');
    await local.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

runBench(main);
