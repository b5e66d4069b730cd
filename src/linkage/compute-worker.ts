/**
 * Worker-thread entry for compute() (see compute.ts and compute-thread.ts). It
 * opens its own driver, so the extracted graph lives only in this thread's heap, and
 * talks to the runner by messages only.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadCypher } from '../platform/cypher';
import { openDatabase } from '../platform/neo4j';
import { compute } from './compute';
import { toWorkerError, type WorkerInput, type WorkerMessage } from './compute-thread';

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('compute-worker must run in a worker thread');
  const post = (m: WorkerMessage) => port.postMessage(m);
  const { connection, params } = workerData as WorkerInput;
  const db = openDatabase(connection);
  try {
    const result = await compute(db, loadCypher(), params, {
      phase: (phase, at) => post({ type: 'phase', phase, at }),
      progress: (fraction) => post({ type: 'progress', fraction }),
    });
    post({ type: 'done', result });
  } catch (err) {
    post({ type: 'failed', error: toWorkerError(err) });
  } finally {
    await db.close();
  }
}

void main();
