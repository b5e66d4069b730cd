/**
 * Ingest benchmark (issue 2): the same N generated events written three ways,
 * each into a fresh embedded Neo4j, in one run:
 *   (c) reference: a bare script — JSON.parse, fold, the same UNWIND … MERGE
 *       statements in one transaction per batch — no validation, no idempotency,
 *       no checkpoint. As the importer, it parses and folds the next batch while one
 *       writes (one write in flight, in file order), so the ratio compares like with like;
 *   (b) the bulk importer (Importer.run: validation, idempotency, checkpoints);
 *   (b') the importer's --first-load mode (a new database via Neo4j's offline importer);
 *   (a) POST /v1/events on the real service process with concurrent clients.
 * "vs reference" divides events/s by the reference's. The first load's time includes a
 * Neo4j start and stop, which the other phases make before timing, and it has no warm-up.
 * Every phase's Neo4j gets the service's shipped heap and page cache (NEO4J_LOCAL_HEAP,
 * NEO4J_LOCAL_PAGECACHE defaults) unless --heap / --pagecache say otherwise; the sizes
 * are printed with the results.
 * Each phase runs in its own child process so peak memory is its own. Before timing,
 * (a), (b) and (c) each write a warm-up file (default 250,000 events over other
 * accounts and values) through the same path, so the figures are a warm service's,
 * not the first minute of a cold JVM's (its JIT compiles for ~40 s of CPU). `--warm-up 0`
 * times the cold start instead. (b') builds a new database and has nothing to warm.
 *
 *   npx tsx bench/ingest/run.ts [--events 1000000] [--accounts 50000] [--clients 8] [--warm-up 250000] [--keyed]
 *     [--heap SIZE] [--pagecache SIZE]   (sizes with k, m or g, as NEO4J_LOCAL_HEAP)
 *   (--keyed: every request carries an id too, as from a producer that resends safely)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { aggregate } from '../../src/ingest/aggregate';
import type { CleanEvent } from '../../src/ingest/event-schema';
import { firstLoad } from '../../src/ingest/first-load';
import { Importer } from '../../src/ingest/importer';
import { EventWriter, writeRows } from '../../src/ingest/writer';
import { loadConfig, MEMORY_SIZE, MEMORY_SIZE_RULE } from '../../src/platform/config';
import { type CypherMap, loadCypher } from '../../src/platform/cypher';
import { migrate } from '../../src/platform/migrations';
import { Database, createDriver } from '../../src/platform/neo4j';
import { startLocalNeo4j } from '../../src/platform/neo4j-local';
import { peakRssMiB } from '../../src/platform/peak-rss';
import { freePort, waitReady } from '../service';
import { benchArgs, wholeOption } from '../options';
import { generateIngestEvents } from './generate';

const args = benchArgs(__filename, {
  events: { type: 'string', default: '1000000' },
  accounts: { type: 'string', default: '50000' },
  clients: { type: 'string', default: '8' },
  'rest-batch': { type: 'string', default: '1000' },
  'import-batch': { type: 'string', default: '20000' },
  'warm-up': { type: 'string', default: '250000' },
  phase: { type: 'string' },
  file: { type: 'string' },
  keyed: { type: 'boolean', default: false },
  heap: { type: 'string' },
  pagecache: { type: 'string' },
});
const EVENTS = wholeOption('events', args.events);
const ACCOUNTS = wholeOption('accounts', args.accounts);
const CLIENTS = wholeOption('clients', args.clients);
const REST_BATCH = wholeOption('rest-batch', args['rest-batch']);
const IMPORT_BATCH = wholeOption('import-batch', args['import-batch']);
const WARM_UP = wholeOption('warm-up', args['warm-up'], 0); // 0: a cold JVM
// The service's own defaults: a bench at other sizes would not measure what ships.
const shipped = loadConfig({});
const memoryOption = (name: string, text: string): string => {
  if (!MEMORY_SIZE.test(text)) throw new Error(`--${name}: "${text}" is not ${MEMORY_SIZE_RULE}`);
  return text;
};
const HEAP = memoryOption('heap', args.heap ?? shipped.NEO4J_LOCAL_HEAP);
const PAGECACHE = memoryOption('pagecache', args.pagecache ?? shipped.NEO4J_LOCAL_PAGECACHE);
const ROOT = path.resolve(__dirname, '../..');
const OUT = path.join(ROOT, 'bench/out');

interface PhaseResult {
  phase: string;
  warmUpEvents: number;
  events: number;
  seconds: number;
  eventsPerSecond: number;
  peakRssMiB: number;
  neo4jPeakRssMiB: number;
}

async function* lines(file: string): AsyncGenerator<string> {
  for await (const line of createInterface({
    input: createReadStream(file),
    crlfDelay: Infinity,
  })) {
    if (line.trim() !== '') yield line;
  }
}

/** The warm-up file (generated once), or undefined with `--warm-up 0`. */
async function warmUpFile(): Promise<string | undefined> {
  const events = WARM_UP;
  if (events === 0) return undefined;
  const accounts = Math.max(1, Math.round((ACCOUNTS * events) / EVENTS));
  const keyed = args.keyed ? '-keyed' : '';
  const file = path.join(OUT, `ingest-warm-up-${events}-${accounts}${keyed}.jsonl`);
  if (!existsSync(file)) {
    mkdirSync(OUT, { recursive: true });
    console.error(`generating ${events} warm-up events → ${file}`);
    await generateIngestEvents(file, events, accounts, 7, true, args.keyed);
  }
  return file;
}

async function withNeo4j<T>(
  work: (uri: string, db: Database, password: string) => Promise<T>,
): Promise<T & { neo4jPeakRssMiB: number }> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'coterie-bench-ingest-'));
  const local = await startLocalNeo4j({ dataDir, port: 0, heap: HEAP, pagecache: PAGECACHE });
  const db = new Database(
    createDriver({ uri: local.uri, user: local.user, password: local.password }),
  );
  try {
    await migrate(db, loadCypher());
    const result = await work(local.uri, db, local.password);
    return { ...result, neo4jPeakRssMiB: peakRssMiB(local.pid) ?? 0 };
  } finally {
    await db.close();
    await local.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** (c) the bare reference: same rows, same statements, nothing else. */
async function reference(file: string, warmUp: string | undefined, batchSize: number) {
  return withNeo4j(async (_uri, db) => {
    const cypher = loadCypher();
    if (warmUp) await writeBare(db, cypher, warmUp, batchSize);
    const started = performance.now();
    const count = await writeBare(db, cypher, file, batchSize);
    return { events: count, seconds: (performance.now() - started) / 1000 };
  });
}

/**
 * Folds the file in windows of `batchSize` events and writes each with `writeRows`;
 * the next window is parsed and folded while one writes, as the importer reads on.
 */
async function writeBare(
  db: Database,
  cypher: CypherMap,
  file: string,
  batchSize: number,
): Promise<number> {
  let batch: CleanEvent[] = [];
  let count = 0;
  let inFlight: Promise<void> = Promise.resolve();
  const write = async (rows: ReturnType<typeof aggregate>) => {
    const session = db.driver.session();
    try {
      await session.executeWrite((tx) => writeRows(tx, cypher, rows));
    } finally {
      await session.close();
    }
  };
  const flush = async () => {
    const rows = aggregate(batch);
    batch = [];
    await inFlight; // one write at a time, in file order
    inFlight = write(rows);
    // Awaited at the next flush: until then a failure must not be an unhandled rejection.
    inFlight.catch(() => undefined);
  };
  for await (const line of lines(file)) {
    const e = JSON.parse(line) as CleanEvent & { at: string };
    batch.push({ ...e, at: Date.parse(e.at) });
    count++;
    if (batch.length >= batchSize) await flush();
  }
  if (batch.length > 0) await flush();
  await inFlight;
  return count;
}

/** (b) the bulk importer. */
async function importer(file: string, warmUp: string | undefined, batchSize: number) {
  return withNeo4j(async (_uri, db) => {
    const cypher = loadCypher();
    const importFile = async (f: string) => {
      const summary = await new Importer(db, cypher, new EventWriter(db, cypher)).run({
        file: f,
        batchSize,
        rejectFile: path.join(OUT, 'bench-ingest.rejects.jsonl'),
      });
      // Every line is valid and new: a rejected or duplicate line would cost less.
      if (summary.rejected > 0 || summary.duplicates > 0)
        throw new Error(`${summary.rejected} lines rejected, ${summary.duplicates} duplicates`);
      return summary.written;
    };
    if (warmUp) await importFile(warmUp);
    const started = performance.now();
    const events = await importFile(file);
    return { events, seconds: (performance.now() - started) / 1000 };
  });
}

/**
 * (b') the importer's first-load mode: a new database from the file through Neo4j's
 * offline importer. Timed to a database in place with its constraints, indexes and
 * checkpoint, so it includes one Neo4j start and stop (the other phases start theirs
 * before timing).
 */
async function firstLoadPhase(file: string) {
  const home = mkdtempSync(path.join(os.tmpdir(), 'coterie-bench-first-load-'));
  try {
    const started = performance.now();
    const summary = await firstLoad({
      file,
      dataDir: path.join(home, 'db'),
      cypher: loadCypher(),
      heap: HEAP,
      pagecache: PAGECACHE,
      rejectFile: path.join(OUT, 'bench-ingest.rejects.jsonl'),
    });
    if (summary.rejected > 0) throw new Error(`${summary.rejected} lines rejected`);
    const seconds = (performance.now() - started) / 1000;
    console.error(`first-load phases (s): ${JSON.stringify(summary.phases)}`);
    return {
      events: summary.written + summary.duplicates,
      seconds,
      neo4jPeakRssMiB: summary.neo4jPeakRssMiB ?? 0,
    };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** (a) the REST endpoint on the real service process, `clients` requests in flight. */
async function rest(file: string, warmUp: string | undefined, clients: number, batchSize: number) {
  const { bodies, count } = await requestBodies(file, batchSize);
  const warmUpBodies = warmUp ? (await requestBodies(warmUp, batchSize)).bodies : [];
  let servicePeak = 0;
  const result = await withNeo4j(async (uri, _db, password) => {
    const port = await freePort();
    const service: ChildProcess = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'src/main.ts')],
      {
        env: {
          ...process.env,
          NEO4J_URI: uri,
          NEO4J_PASSWORD: password,
          PORT: String(port),
          LOG_LEVEL: 'warn',
          INGEST_MAX_BODY_BYTES: '50000000',
        },
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    );
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitReady(url);
      await post(url, warmUpBodies, clients);
      const started = performance.now();
      const stored = await post(url, bodies, clients);
      const seconds = (performance.now() - started) / 1000;
      // Duplicates would be cheaper than new events: the timed file must all be new.
      if (stored !== count) throw new Error(`REST stored ${stored} of ${count} events as new`);
      servicePeak = peakRssMiB(service.pid as number) ?? 0;
      return { events: count, seconds };
    } finally {
      service.kill('SIGTERM');
      await new Promise((r) => service.once('exit', r));
    }
  });
  return { ...result, servicePeakRssMiB: servicePeak };
}

/** The file's events as request bodies of `batchSize` events each. */
async function requestBodies(file: string, batchSize: number) {
  const bodies: string[] = [];
  let chunk: string[] = [];
  let count = 0;
  for await (const line of lines(file)) {
    chunk.push(line);
    count++;
    if (chunk.length === batchSize) {
      bodies.push(`{"events":[${chunk.join(',')}]}`);
      chunk = [];
    }
  }
  if (chunk.length > 0) bodies.push(`{"events":[${chunk.join(',')}]}`);
  return { bodies, count };
}

/** Sends every body to POST /v1/events, `clients` requests in flight; returns how many were new. */
async function post(url: string, bodies: readonly string[], clients: number): Promise<number> {
  let next = 0;
  let stored = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++] as string;
      const res = await fetch(`${url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      if (res.status !== 200)
        throw new Error(`POST /v1/events → ${res.status} ${await res.text()}`);
      stored += ((await res.json()) as { new: number }).new;
    }
  };
  await Promise.all(Array.from({ length: clients }, worker));
  return stored;
}

async function runPhase(phase: string, file: string): Promise<void> {
  const batch = IMPORT_BATCH;
  // The first load makes a new database: nothing to warm.
  const warmUp = phase === 'first-load' ? undefined : await warmUpFile();
  const r =
    phase === 'reference'
      ? await reference(file, warmUp, batch)
      : phase === 'importer'
        ? await importer(file, warmUp, batch)
        : phase === 'first-load'
          ? await firstLoadPhase(file)
          : await rest(file, warmUp, CLIENTS, REST_BATCH);
  const own = Math.round(process.resourceUsage().maxRSS / 1024);
  const result: PhaseResult = {
    phase,
    warmUpEvents: warmUp ? WARM_UP : 0,
    events: r.events,
    seconds: Number(r.seconds.toFixed(2)),
    eventsPerSecond: Math.round(r.events / r.seconds),
    // For REST the interesting process is the service, not the load generator.
    peakRssMiB: 'servicePeakRssMiB' in r ? (r.servicePeakRssMiB as number) : own,
    neo4jPeakRssMiB: r.neo4jPeakRssMiB,
  };
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

async function orchestrate(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  console.log(
    `Neo4j heap ${HEAP}, page cache ${PAGECACHE} in every phase ` +
      `(the service ships ${shipped.NEO4J_LOCAL_HEAP} / ${shipped.NEO4J_LOCAL_PAGECACHE})`,
  );
  const keyed = args.keyed ? '-keyed' : '';
  const file = path.join(OUT, `ingest-v2-${EVENTS}-${ACCOUNTS}${keyed}.jsonl`);
  if (!existsSync(file)) {
    console.log(`generating ${EVENTS} events → ${file}`);
    await generateIngestEvents(file, EVENTS, ACCOUNTS, 7, false, args.keyed);
  }
  const results: Record<string, PhaseResult> = {};
  for (const phase of ['reference', 'importer', 'first-load', 'rest']) {
    console.log(`phase ${phase} …`);
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', __filename, '--phase', phase, '--file', file, ...process.argv.slice(2)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const code = await new Promise((r) => child.once('exit', r));
    const line = out.split('\n').find((l) => l.startsWith('RESULT '));
    if (code !== 0 || !line) throw new Error(`phase ${phase} failed (exit ${code})\n${out}`);
    results[phase] = JSON.parse(line.slice('RESULT '.length)) as PhaseResult;
    console.log(line);
  }
  const ref = results.reference as PhaseResult;
  const imp = results.importer as PhaseResult;
  const api = results.rest as PhaseResult;
  const first = results['first-load'] as PhaseResult;
  console.log(
    `\n| path | warm-up events | events | s | events/s | vs reference | peak RSS MiB (process / Neo4j) |`,
  );
  console.log(`|---|---|---|---|---|---|---|`);
  for (const r of [api, imp, first, ref]) {
    const ratio = (r.eventsPerSecond / ref.eventsPerSecond).toFixed(2);
    console.log(
      `| ${r.phase} | ${r.warmUpEvents} | ${r.events} | ${r.seconds} | ${r.eventsPerSecond} | ${ratio} | ${r.peakRssMiB} / ${r.neo4jPeakRssMiB || 'n/a'} |`,
    );
  }
  console.log(`\nNeo4j heap ${HEAP}, page cache ${PAGECACHE}`);
  console.log(`targets: importer ≥ 0.70 × reference and ≥ 50000 events/s; REST ≥ 20000 events/s`);
}

if (args.phase) {
  runPhase(args.phase, args.file as string).catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else {
  orchestrate().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
