/**
 * `coterie import --first-load`: the offline bulk importer must build exactly the graph
 * the online (Cypher) importer builds from the same file — same nodes, relationships and
 * properties, same reject file and counts — and leave nothing behind when refused or stopped.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { hostname } from 'node:os';
import path from 'node:path';
import neo4j, { type Driver } from 'neo4j-driver';
import { firstLoad } from '../../src/ingest/first-load';
import { Importer } from '../../src/ingest/importer';
import { EventWriter } from '../../src/ingest/writer';
import { loadCypher } from '../../src/platform/cypher';
import { migrate } from '../../src/platform/migrations';
import { Database, createDriver } from '../../src/platform/neo4j';
import { type LocalNeo4j, startLocalNeo4j } from '../../src/platform/neo4j-local';
import { migratedDatabase, startTestNeo4j, type TestNeo4j } from '../support/neo4j';

const cypher = loadCypher();
const dir = mkdtempSync(path.join(tmpdir(), 'coterie-first-load-'));
const memory = { heap: '512m', pagecache: '128m' };
let online: TestNeo4j;
let db: Database;
let loaded: LocalNeo4j | undefined;
let loadedDriver: Driver | undefined;

beforeAll(async () => {
  online = await startTestNeo4j();
  db = await migratedDatabase(online, cypher);
});

afterAll(async () => {
  await db?.close();
  await online?.stop();
  await loadedDriver?.close();
  await loaded?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Every kind of event in time order: keyed sign-ups and payments (one key resent),
 * requests over IPv4 and IPv6 with raw prompts and fingerprints, models, capabilities,
 * orgs, devices and domains with commas, quotes and a line break, sign-up-only accounts
 * (empty hour series), and two bad lines.
 */
function fixture(): string[] {
  const lines: string[] = [];
  const t0 = Date.UTC(2026, 1, 1);
  const at = (i: number) => new Date(t0 + i * 97_000).toISOString();
  let i = 0;
  for (let a = 0; a < 24; a++) {
    lines.push(
      JSON.stringify({
        id: `signup-${a}`,
        type: 'signup',
        accountId: `acct-${a}`,
        at: at(i++),
        emailDomain: a % 3 === 0 ? 'Uni.example.edu' : `mail${a % 4}.example`,
        org: a % 5 === 0 ? 'Acme, "Labs"' : undefined,
        device: a % 7 === 0 ? 'dev\nmultiline' : `dev-${a % 6}`,
        ip: `198.51.${a % 2}.${a}`,
      }),
    );
  }
  lines.push(lines[3] as string); // a resent sign-up: a duplicate key
  lines.push('{"type": "request", "accountId": ');
  for (let a = 0; a < 20; a++) {
    lines.push(
      JSON.stringify({
        id: `pay-${a}`,
        type: 'payment',
        accountId: `acct-${a}`,
        at: at(i++),
        paymentMethod: `card-${a % 5}`,
      }),
    );
  }
  lines.push(JSON.stringify({ type: 'request', accountId: 'bad id', at: 'yesterday' }));
  for (let r = 0; r < 400; r++) {
    const a = (r * 7) % 18;
    lines.push(
      JSON.stringify({
        type: 'request',
        accountId: `acct-${a}`,
        at: at(i++ * 5),
        ip: r % 4 === 0 ? `2001:db8:${a % 3}::${r % 9}` : `203.0.${a % 4}.${r % 11}`,
        ...(r % 3 === 0
          ? { prompt: `Summarise document ${r % 6} for me, please` }
          : { promptFingerprint: (0xabc0 + (r % 13)).toString(16).padStart(16, '0') }),
        model: r < 300 ? 'model-a' : 'model-b',
        capability: ['reasoning', 'coding', 'tools'][r % 3],
      }),
    );
  }
  // An org and a domain that change: the newer event's win, though the importer writes a
  // window's keyed events (the newer one here) before its folded rows.
  const t = i * 5;
  for (const [n, key, org, emailDomain] of [
    [t, undefined, 'old-org', 'old.example'],
    [t + 1, 'org-moved', 'new-org', 'new.example'],
  ] as const) {
    lines.push(
      JSON.stringify({
        id: key,
        type: 'payment',
        accountId: 'acct-org',
        at: at(n),
        org,
        emailDomain,
      }),
    );
  }
  return lines;
}

type Plain = null | boolean | number | string | Plain[] | { [k: string]: Plain };
const plain = (v: unknown): Plain => {
  if (neo4j.isInt(v)) return v.toNumber();
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  }
  return v as Plain;
};

/** Properties that record when or by which transaction something was written. */
const VOLATILE = new Set(['appliedAt', 'storedAt', 'token', 'updatedAt', 'version']);
const KEYS = ['id', 'fingerprint', 'address', 'cidr', 'hash', 'name', 'key'];

/**
 * The whole graph as sorted, comparable lines (nodes by label and key, relationships by
 * ends), less the online writer's per-transaction markers (IngestedBatch: bookkeeping
 * against a driver's re-run, which the offline load has no need of).
 */
async function dump(driver: Driver): Promise<{ nodes: string[]; relationships: string[] }> {
  const nodeKey = (labels: string[], props: Record<string, Plain>) =>
    `${labels.join(':')}/${KEYS.map((k) => props[k]).find((v) => v !== undefined)}`;
  const clean = (props: Record<string, Plain>) =>
    Object.fromEntries(
      Object.entries(props)
        .filter(([k]) => !VOLATILE.has(k))
        .sort(([x], [y]) => (x < y ? -1 : 1)),
    );
  const nodes = await driver.executeQuery(
    'MATCH (n) WHERE NOT n:IngestedBatch RETURN labels(n) AS l, properties(n) AS p',
  );
  const rels = await driver.executeQuery(
    'MATCH (a)-[r]->(b) RETURN labels(a) AS la, properties(a) AS pa, type(r) AS t, properties(r) AS p, labels(b) AS lb, properties(b) AS pb',
  );
  return {
    nodes: nodes.records
      .map((r) => {
        const p = plain(r.get('p')) as Record<string, Plain>;
        return `${nodeKey(r.get('l'), p)} ${JSON.stringify(clean(p))}`;
      })
      .sort(),
    relationships: rels.records
      .map((r) => {
        const from = nodeKey(r.get('la'), plain(r.get('pa')) as Record<string, Plain>);
        const to = nodeKey(r.get('lb'), plain(r.get('pb')) as Record<string, Plain>);
        const p = clean(plain(r.get('p')) as Record<string, Plain>);
        return `${from} -${r.get('t')}-> ${to} ${JSON.stringify(p)}`;
      })
      .sort(),
  };
}

describe('coterie import --first-load', () => {
  it('builds the same graph, reject file and counts as the online importer', async () => {
    const file = path.join(dir, 'events.jsonl');
    writeFileSync(file, `${fixture().join('\n')}\n`);
    // Online in small windows and parts, so its incremental merges are exercised.
    const viaCypher = await new Importer(db, cypher, new EventWriter(db, cypher)).run({
      file,
      batchSize: 60,
      partRows: 40,
      rejectFile: path.join(dir, 'online.rejects.jsonl'),
    });
    const dataDir = path.join(dir, 'offline-db');
    const phases: string[] = [];
    let stagingMode = 0;
    const offline = await firstLoad({
      file,
      dataDir,
      cypher,
      ...memory,
      rejectFile: path.join(dir, 'offline.rejects.jsonl'),
      workers: 2, // the threaded read, as on big files
      onPhase: (p) => {
        phases.push(p);
        // the whole graph as CSV: its owner's alone (review, 12-06)
        if (p === 'csv') stagingMode = statSync(`${dataDir}.first-load`).mode & 0o777;
      },
    });
    expect(phases).toEqual(['read', 'csv', 'import', 'index', 'finish']);
    expect(stagingMode).toBe(0o700);
    expect(offline).toMatchObject({
      lines: viaCypher.lines,
      written: viaCypher.written,
      duplicates: 1,
      rejected: 2,
      interrupted: false,
    });
    expect(viaCypher).toMatchObject({ duplicates: 1, rejected: 2 });
    // The launcher's JVM (import tool, then Neo4j) is measured before it stops; a JVM
    // that ran both is well over 100 MiB. /proc is Linux's: elsewhere it is left out.
    expect(offline.neo4jPeakRssMiB).toEqual(
      process.platform === 'linux' ? expect.any(Number) : undefined,
    );
    if (process.platform === 'linux') expect(offline.neo4jPeakRssMiB).toBeGreaterThan(100);
    expect(readFileSync(offline.rejectFile, 'utf8')).toBe(
      readFileSync(viaCypher.rejectFile, 'utf8'),
    );
    expect(existsSync(`${dataDir}.first-load`)).toBe(false);

    loaded = await startLocalNeo4j({ dataDir, port: 0, ...memory });
    loadedDriver = neo4j.driver(loaded.uri, neo4j.auth.basic(loaded.user, loaded.password));
    const [want, got] = await Promise.all([dump(online.driver), dump(loadedDriver)]);
    expect(got.nodes.length).toBeGreaterThan(100);
    expect(got.relationships.length).toBeGreaterThan(100);
    expect(got).toEqual(want);
    for (const driver of [online.driver, loadedDriver]) {
      const moved = await driver.executeQuery(
        "MATCH (a:Account {id: 'acct-org'}) RETURN a.org AS org, a.emailDomain AS domain",
      );
      expect(moved.records.map((r) => r.toObject())).toEqual([
        { org: 'new-org', domain: 'new.example' },
      ]);
    }
    // The line break survived (the import tool parsed a multi-line field).
    const devices = await loadedDriver.executeQuery(
      'MATCH (d:Device {fingerprint: $f})<-[:USED_DEVICE]-(a) RETURN count(a) AS n',
      { f: 'dev\nmultiline' },
    );
    expect(plain(devices.records[0]?.get('n'))).toBe(4);

    // The file's checkpoint is in: importing it online afterwards adds nothing.
    const loadedDb = new Database(
      createDriver({ uri: loaded.uri, user: loaded.user, password: loaded.password }),
    );
    try {
      await migrate(loadedDb, cypher);
      const again = await new Importer(loadedDb, cypher, new EventWriter(loadedDb, cypher)).run({
        file,
        batchSize: 60,
        rejectFile: path.join(dir, 'again.rejects.jsonl'),
      });
      expect(again).toMatchObject({ resumedFromLine: viaCypher.lines, written: offline.written });
      expect(await dump(loadedDriver)).toEqual(got);
    } finally {
      await loadedDb.close();
    }
  }, 300_000);

  it('refuses a data directory that holds anything, and leaves it alone', async () => {
    const file = path.join(dir, 'small.jsonl');
    writeFileSync(file, `${fixture().slice(0, 30).join('\n')}\n`);
    const dataDir = path.join(dir, 'busy');
    mkdirSync(dataDir);
    writeFileSync(path.join(dataDir, 'keep.txt'), 'mine');
    await expect(firstLoad({ file, dataDir, cypher, ...memory })).rejects.toThrow(/not empty/);
    expect(readFileSync(path.join(dataDir, 'keep.txt'), 'utf8')).toBe('mine');
    expect(existsSync(`${dataDir}.first-load`)).toBe(false);
  });

  it("one first load per data directory: a second is refused, a dead holder's lock taken over", async () => {
    // Found by review: a second first load deleted the first's staging folder under its
    // import, and the first then moved the second's near-empty one into place as done.
    const file = path.join(dir, 'twice.jsonl');
    writeFileSync(file, `${fixture().slice(0, 30).join('\n')}\n`);
    const dataDir = path.join(dir, 'twice');
    const lock = `${dataDir}.first-load.lock`;
    const first = firstLoad({ file, dataDir, cypher, ...memory });
    expect(existsSync(lock)).toBe(true); // taken before the first await
    await expect(firstLoad({ file, dataDir, cypher, ...memory })).rejects.toThrow(
      `another --first-load into ${dataDir} is running (pid ${process.pid}`,
    );
    expect((await first).written).toBeGreaterThan(0);
    expect(existsSync(lock)).toBe(false);
    // Taken over: a lock whose process on this machine is gone; one naming this very pid
    // that this process does not hold (a container restarted after its load was killed);
    // an empty one older than a few seconds (a crash while writing it). The data
    // directory's parent need not exist (.coterie/ on a fresh clone; review).
    const stale: [string, string][] = [
      ['dead', `${2 ** 22 + 12345} ${hostname()}\n`],
      ['mine', `${process.pid} ${hostname()}\n`],
      ['empty', ''],
    ];
    for (const [name, text] of stale) {
      const again = path.join(dir, 'fresh', name, 'neo4j');
      mkdirSync(path.dirname(again), { recursive: true });
      writeFileSync(`${again}.first-load.lock`, text);
      const old = new Date(Date.now() - 60_000);
      utimesSync(`${again}.first-load.lock`, old, old);
      const loaded = await firstLoad({ file, dataDir: again, cypher, ...memory });
      expect({ name, written: loaded.written > 0 }).toEqual({ name, written: true });
      expect(existsSync(`${again}.first-load.lock`)).toBe(false);
    }
    const fresh = path.join(dir, 'no-parent-yet', '.coterie', 'neo4j');
    expect((await firstLoad({ file, dataDir: fresh, cypher, ...memory })).written).toBeGreaterThan(
      0,
    );
  }, 300_000);

  it('a file without one valid event builds no database and says so; its rejects are written (review, 12-05)', async () => {
    // It had installed an empty database that recorded this file as imported: exit 1, yet
    // the next first load, with the right file, found the directory not empty.
    const file = path.join(dir, 'bad.jsonl');
    writeFileSync(file, '{"type": "request", "accountId": \n\n');
    const dataDir = path.join(dir, 'empty-db');
    await expect(firstLoad({ file, dataDir, cypher, ...memory })).rejects.toThrow(
      `no line of ${file} is a valid event (reasons in ${file}.rejects.jsonl); no database was built`,
    );
    expect(existsSync(dataDir)).toBe(false);
    expect(existsSync(`${dataDir}.first-load`)).toBe(false);
    expect(readFileSync(`${file}.rejects.jsonl`, 'utf8')).toContain('"line":1');
  });

  it('a file with bytes but no event (no line feed, lone CRs, blank lines) builds no database either (review, 12-06)', async () => {
    const event = fixture()[0] as string;
    for (const [name, text, why] of [
      ['unended', event, /has no line ended by a line feed: its last \d+ bytes/],
      ['lone-cr', `${event}\r${event}\r`, /a lone \\r: convert them with tr '\\r' '\\n'\)/],
      ['blank', '\n\n', /holds only blank lines; no database was built/],
    ] as const) {
      const file = path.join(dir, `${name}.jsonl`);
      writeFileSync(file, text);
      const dataDir = path.join(dir, `${name}-db`);
      await expect(firstLoad({ file, dataDir, cypher, ...memory })).rejects.toThrow(why);
      expect({ name, installed: existsSync(dataDir) }).toEqual({ name, installed: false });
      expect(existsSync(`${dataDir}.first-load`)).toBe(false);
    }
  });

  it('a data directory whose path holds a comma is refused before the file is read (review, 12-05)', async () => {
    // The import tool splits its file lists at commas: the load failed after its whole fold.
    const file = path.join(dir, 'comma.jsonl');
    writeFileSync(file, `${fixture().slice(0, 5).join('\n')}\n`);
    const dataDir = path.join(dir, 'a,b', 'neo4j');
    await expect(firstLoad({ file, dataDir, cypher, ...memory })).rejects.toThrow(
      /cannot read a file whose path holds a comma/,
    );
    expect(existsSync(dataDir)).toBe(false);
    expect(existsSync(`${dataDir}.first-load`)).toBe(false);
  });

  it('a data directory that is a file is refused up front; a store that cannot be moved in at the end is kept (review, 12-05)', async () => {
    const file = path.join(dir, 'finish.jsonl');
    writeFileSync(file, `${fixture().slice(0, 20).join('\n')}\n`);
    const notDir = path.join(dir, 'a-file');
    writeFileSync(notDir, 'x');
    await expect(firstLoad({ file, dataDir: notDir, cypher, ...memory })).rejects.toThrow(
      `--first-load creates a new database in ${notDir}, which is not a directory`,
    );
    // An empty data directory passes the check; something lands in it before the move
    // (as a mount point refuses its rmdir with EBUSY): the finished store is not deleted.
    const dataDir = path.join(dir, 'occupied-at-the-end');
    mkdirSync(dataDir);
    const onPhase = (p: unknown) => {
      if (p === 'finish') writeFileSync(path.join(dataDir, 'late'), 'x');
    };
    await expect(firstLoad({ file, dataDir, cypher, ...memory, onPhase })).rejects.toThrow(
      `the new database is complete in ${dataDir}.first-load but could not be moved to ${dataDir}`,
    );
    expect(existsSync(path.join(`${dataDir}.first-load`, 'data', 'databases', 'neo4j'))).toBe(true);
  });

  it('a reject file that cannot be written is said before the file is read', async () => {
    const file = path.join(dir, 'unwritable-rejects.jsonl');
    writeFileSync(file, `${fixture().slice(0, 5).join('\n')}\n`);
    const rejectFile = path.join(dir, 'no-such-dir', 'x.rejects.jsonl');
    const dataDir = path.join(dir, 'unwritable-rejects-db');
    const phases: string[] = [];
    await expect(
      firstLoad({
        file,
        dataDir,
        cypher,
        ...memory,
        rejectFile,
        onPhase: (p) => phases.push(String(p)),
      }),
    ).rejects.toThrow(`cannot write the reject file ${rejectFile}: ENOENT`);
    expect(phases).toEqual([]);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('leaves a last line without a line break for the next import, as the importer does', async () => {
    const file = path.join(dir, 'unfinished.jsonl');
    const lines = fixture().slice(0, 30);
    const last = lines[29] as string;
    writeFileSync(file, lines.join('\n')); // no final line break: line 30 is unfinished
    const dataDir = path.join(dir, 'unfinished-db');
    const summary = await firstLoad({ file, dataDir, cypher, ...memory, workers: 2 });
    expect(summary).toMatchObject({ lines: 29, pendingBytes: Buffer.byteLength(last) });
    await withImporter(dataDir, async (importer) => {
      const rejectFile = path.join(dir, 'unfinished.again.rejects.jsonl');
      // Unchanged: the same import, finished; not refused as a rewritten file.
      const again = await importer.run({ file, batchSize: 60, rejectFile });
      expect(again).toMatchObject({ match: 'same', resumedFromLine: 29, lines: 29 });
      expect(again.thisRun).toEqual({ written: 0, duplicates: 0, rejected: 0 });
      // The line finished: it continues the import with line 30 alone.
      writeFileSync(file, `${lines.join('\n')}\n`);
      const finished = await importer.run({ file, batchSize: 60, rejectFile });
      expect(finished).toMatchObject({ match: 'appended', resumedFromLine: 29, lines: 30 });
      const { written, duplicates, rejected } = finished.thisRun;
      expect(written + duplicates + rejected).toBe(1);
    });
  }, 300_000);

  it('an empty file builds an empty database that records no import: a file not yet ending a line can be imported after (review, 12-07)', async () => {
    // It recorded one under the hash of no bytes, which every file without a line feed
    // also has: their import was refused as one "ran meanwhile", on every run.
    const empty = path.join(dir, 'empty.jsonl');
    writeFileSync(empty, '');
    const dataDir = path.join(dir, 'empty-file-db');
    expect(await firstLoad({ file: empty, dataDir, cypher, ...memory })).toMatchObject({
      lines: 0,
    });
    await withImporter(dataDir, async (importer) => {
      const unfinished = path.join(dir, 'one-unfinished-line.jsonl');
      writeFileSync(unfinished, fixture()[0] as string); // no line feed yet
      const summary = await importer.run({
        file: unfinished,
        batchSize: 60,
        rejectFile: path.join(dir, 'one-unfinished-line.rejects.jsonl'),
      });
      expect(summary).toMatchObject({ lines: 0, pendingBytes: Buffer.byteLength(fixture()[0]!) });
    });
  }, 300_000);

  /** The online importer over a store the first load built, Neo4j stopped after `use`. */
  async function withImporter(dataDir: string, use: (importer: Importer) => Promise<void>) {
    const local = await startLocalNeo4j({ dataDir, port: 0, ...memory });
    const localDb = new Database(
      createDriver({ uri: local.uri, user: local.user, password: local.password }),
    );
    try {
      await use(new Importer(localDb, cypher, new EventWriter(localDb, cypher)));
    } finally {
      await localDb.close();
      await local.stop();
    }
  }

  /**
   * A first load stopped when `when` says (told each phase as it starts, and each log
   * line): what it returned, the phases it began, and whether anything is left.
   */
  async function stoppedLoad(name: string, when: (phaseOrLine: string) => boolean) {
    const file = path.join(dir, `${name}.jsonl`);
    writeFileSync(file, `${fixture().join('\n')}\n`);
    const dataDir = path.join(dir, `${name}-db`);
    const abort = new AbortController();
    const phases: string[] = [];
    const summary = await firstLoad({
      file,
      dataDir,
      cypher,
      ...memory,
      signal: abort.signal,
      onPhase: (p) => {
        phases.push(p);
        if (when(p)) abort.abort();
      },
      log: (line) => {
        if (when(line)) abort.abort();
      },
    });
    return {
      interrupted: summary.interrupted,
      phases,
      left: [dataDir, `${dataDir}.first-load`].filter((d) => existsSync(d)),
    };
  }

  it('stopped, leaves neither a database nor a staging directory', async () => {
    // Stopped during the import: the launcher is killed, Neo4j never starts on the store.
    expect(await stoppedLoad('stopped', (p) => p === 'import')).toEqual({
      interrupted: true,
      phases: ['read', 'csv', 'import'],
      left: [],
    });
  });

  it('stopped once Neo4j serves the new store (its indexes next), leaves nothing either', async () => {
    // The stop no longer waits for the indexes to populate (minutes on a big store; not
    // shown here, where they take milliseconds): this is the path it takes.
    expect(await stoppedLoad('stopped-indexing', (line) => /: ready at /.test(line))).toEqual({
      interrupted: true,
      phases: ['read', 'csv', 'import', 'index'],
      left: [],
    });
  });
});
