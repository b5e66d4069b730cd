/**
 * Worker-thread entry for analysts' queries (query-workers.ts): one query at a time on
 * a driver of its own. The driver decodes a record whole and at once, so a huge row
 * (`RETURN range(1, 5000000)`) takes this thread's event loop and heap, not the
 * service's: the main thread's deadline can still terminate it, and the heap limit
 * it was started with ends it before the process runs out.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Neo4jError } from 'neo4j-driver';
import { isAppError } from '../platform/errors';
import { createDriver, type DriverOptions, readOnceOn } from '../platform/neo4j';
import { executeQuery, unpackParams } from './execute';
import { type QueryAnswer, type QueryRequest, READY, type WireError } from './query-workers';

const port = parentPort;
if (!port) throw new Error('query-worker must run in a worker thread');
const { connection } = workerData as { connection: DriverOptions };
// Integers exact: analysts' queries may return any (recordToPlain gives big ones as strings).
const driver = createDriver(connection, true);

port.postMessage(READY);

port.on('message', (m: QueryRequest) => {
  const { spec, caps } = m;
  void readOnceOn(
    driver,
    (tx) => executeQuery(tx, { ...spec, params: unpackParams(spec.params) }, caps),
    { database: connection.database, timeoutMs: m.timeoutMs, fetchSize: m.fetchSize, tag: m.tag },
  ).then(
    (rows) => port.postMessage({ rows } satisfies QueryAnswer),
    (err: unknown) => port.postMessage({ error: toWire(err) } satisfies QueryAnswer),
  );
});

function toWire(err: unknown): WireError {
  if (isAppError(err)) {
    const cause = err.cause instanceof Error ? err.cause.message : undefined;
    return { kind: 'app', code: err.code, message: err.message, details: err.details, cause };
  }
  if (err instanceof Neo4jError) {
    return {
      kind: 'neo4j',
      code: err.code,
      message: err.message,
      gqlStatus: err.gqlStatus,
      gqlStatusDescription: err.gqlStatusDescription,
    };
  }
  if (err instanceof RangeError) return { kind: 'range', message: err.message };
  const code = (err as { code?: unknown } | null)?.code;
  return {
    kind: 'other',
    message: err instanceof Error ? err.message : String(err),
    ...(typeof code === 'string' ? { code } : {}),
  };
}
