/**
 * Worker-thread entry for one byte range of fold-file.ts: folds it and hands the fold
 * back as plain data; reports bytes read every few MiB.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type FoldWorkerInput, foldRange } from './fold-file';

const BYTES_REPORT = 4 * 2 ** 20;

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('fold-worker must run in a worker thread');
  const { file, range, rejectsPart, maxLineBytes } = workerData as FoldWorkerInput;
  let unreported = 0;
  try {
    const result = await foldRange(
      file,
      range,
      rejectsPart,
      (n) => {
        unreported += n;
        if (unreported >= BYTES_REPORT) {
          port.postMessage({ type: 'bytes', n: unreported });
          unreported = 0;
        }
      },
      undefined,
      maxLineBytes,
    );
    if (unreported > 0) port.postMessage({ type: 'bytes', n: unreported });
    port.postMessage({ type: 'done', result });
  } catch (err) {
    port.postMessage({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
  }
}

void main();
