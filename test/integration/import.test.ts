/**
 * The bulk importer against a real Neo4j: reject file, .gz input, resuming after both a
 * polite stop and a killed process without counting anything twice, and what identifies
 * an import (its bytes: copies, appends, rewrites).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  copyFileSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { identify, legacyFileKey, readHead } from '../../src/ingest/import-identity';
import { ImportLocked } from '../../src/ingest/import-lock';
import { ImportRefused, Importer, recordImported } from '../../src/ingest/importer';
import { EventWriter } from '../../src/ingest/writer';
import { loadCypher } from '../../src/platform/cypher';
import { Database, int as neoInt, type ManagedTransaction } from '../../src/platform/neo4j';
import { childEnv } from '../support/child-env';
import {
  CommitsTwice,
  migratedDatabase,
  startTestNeo4j,
  waitForBlocked,
  type TestNeo4j,
} from '../support/neo4j';

let neo4j: TestNeo4j;
let db: Database;
const cypher = loadCypher();
const dir = mkdtempSync(path.join(tmpdir(), 'coterie-import-'));

beforeAll(async () => {
  neo4j = await startTestNeo4j();
  db = await migratedDatabase(neo4j, cypher);
});

afterAll(async () => {
  await db?.close();
  await neo4j?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** n request lines for accounts `${prefix}-0..9`, with bad lines at the given 1-based numbers. */
type RejectEntry = { line: number; reason: string; issues?: { path: string }[]; import?: string };

/** A reject file's entries, parsed. */
function rejectEntries(file: string): RejectEntry[] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as RejectEntry);
}

function eventLines(prefix: string, n: number, badAt: number[] = []): string[] {
  const lines: string[] = [];
  for (let i = 1; i <= n; i++) {
    if (badAt.includes(i))
      lines.push(
        i % 2
          ? '{"type": "request", "accountId": '
          : JSON.stringify({ type: 'request', accountId: 'bad id', at: 'x' }),
      );
    else
      lines.push(
        JSON.stringify({
          type: 'request',
          accountId: `${prefix}-${i % 10}`,
          at: new Date(Date.UTC(2026, 1, 1) + i * 1000).toISOString(),
          ip: `10.0.${i % 3}.1`,
        }),
      );
  }
  return lines;
}

async function requestsFor(prefix: string): Promise<number> {
  const res = await neo4j.driver.executeQuery(
    'MATCH (a:Account) WHERE a.id STARTS WITH $p RETURN sum(a.requests) AS n',
    { p: `${prefix}-` },
  );
  return Number(res.records[0]?.get('n') ?? 0);
}

const importer = () => new Importer(db, cypher, new EventWriter(db, cypher));

/** An import stopped (as by Ctrl-C) once its first window is written. */
function importUntilWindowOne(opts: {
  file: string;
  batchSize: number;
  partRows: number;
  clock?: () => number;
}) {
  const abort = new AbortController();
  return importer().run({
    ...opts,
    signal: abort.signal,
    onProgress: (p) => {
      if (p.written > 0) abort.abort();
    },
  });
}

/** An import in windows of 100, stopped (as by Ctrl-C) once `atLeast` events are written. */
function importUntilWritten(file: string, atLeast: number) {
  const abort = new AbortController();
  return importer().run({
    file,
    batchSize: 100,
    signal: abort.signal,
    onProgress: (p) => {
      if (p.written >= atLeast) abort.abort();
    },
  });
}

/**
 * An import in windows of 100 that calls `act` once, when its first window is written
 * (the file changed under it, its lock taken, …); `acted()` says whether it did.
 */
function importActingOnce(file: string, act: () => void) {
  let done = false;
  const run = importer().run({
    file,
    batchSize: 100,
    onProgress: (p) => {
      if (!done && p.written >= 100) {
        done = true;
        act();
      }
    },
  });
  return { run, acted: () => done };
}

/** A file's import checkpoint: its last whole window's line and its open window. */
async function checkpointOf(file: string) {
  const { records } = await neo4j.driver.executeQuery(
    'MATCH (c:ImportCheckpoint {file: $file}) RETURN c.line AS line, c.windowEnd AS end, c.windowParts AS parts',
    { file },
  );
  return records.map((r) => r.toObject())[0];
}

/** How many import checkpoints name this path. */
async function checkpointsAt(file: string): Promise<number> {
  const { records } = await neo4j.driver.executeQuery(
    'MATCH (c:ImportCheckpoint {file: $file}) RETURN count(c) AS n',
    { file },
  );
  return Number(records[0]?.get('n'));
}

describe('coterie import', () => {
  it('one import of a path at a time: another is refused before it reads, an expired lock is taken over', async () => {
    // Found by review on 12-02: two imports of a growing log at once both wrote the
    // lines past the checkpoint the later one copied (counted twice).
    const file = path.join(dir, 'locked.jsonl');
    writeFileSync(file, `${eventLines('locked', 3000).join('\n')}\n`);
    const [a, b] = await Promise.allSettled([
      importer().run({ file, batchSize: 500 }),
      importer().run({ file, batchSize: 500 }),
    ]);
    const outcomes = [a, b].map((r) => r.status).sort();
    expect(outcomes).toEqual(['fulfilled', 'rejected']);
    const refused = [a, b].find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(ImportLocked);
    expect(await requestsFor('locked')).toBe(3000);
    // released when done
    const left = await neo4j.driver.executeQuery('MATCH (l:ImportLock) RETURN count(l) AS n');
    expect(Number(left.records[0]?.get('n'))).toBe(0);

    // a holder that died: refused until its lock expires, then taken over
    appendFileSync(file, `${eventLines('locked2', 100).join('\n')}\n`);
    await neo4j.driver.executeQuery(
      "CREATE (:ImportLock {file: $file, holder: 'dead', since: timestamp(), expiresAt: timestamp() + 60000})",
      { file },
    );
    await expect(importer().run({ file, batchSize: 500 })).rejects.toThrow(
      /another import of .* is running/,
    );
    await neo4j.driver.executeQuery(
      'MATCH (l:ImportLock {file: $file}) SET l.expiresAt = timestamp() - 1',
      { file },
    );
    expect(await importer().run({ file, batchSize: 500 })).toMatchObject({ match: 'appended' });
    expect(await requestsFor('locked')).toBe(3000);
    expect(await requestsFor('locked2')).toBe(100);

    // A lock naming this very pid and host that this process does not hold: a container
    // restarted in place after its import died (found by review on 12-03: refused for 60 s).
    appendFileSync(file, `${eventLines('locked3', 100).join('\n')}\n`);
    await neo4j.driver.executeQuery(
      `CREATE (:ImportLock {file: $file, holder: 'before-the-restart', host: $host, pid: $pid,
                            since: timestamp(), expiresAt: timestamp() + 60000})`,
      { file, host: hostname(), pid: neoInt(process.pid) },
    );
    expect(await importer().run({ file, batchSize: 500 })).toMatchObject({ match: 'appended' });
    expect(await requestsFor('locked3')).toBe(100);
  });

  it('stopped while the next window waits for the one being written: at most its first part is written, the resume counts nothing twice', async () => {
    const file = path.join(dir, 'stop-waiting.jsonl');
    writeFileSync(file, `${eventLines('stopwait', 1000, [150]).join('\n')}\n`);
    const stopped = await importUntilWritten(file, 100);
    const written = await requestsFor('stopwait');
    expect(written).toBeGreaterThanOrEqual(100);
    expect(written).toBeLessThanOrEqual(200); // window 2 (100 events; line 150 bad) at most
    // its rejects count once its window is in whole (one part here)
    expect(stopped).toMatchObject({ interrupted: true, rejected: written === 200 ? 1 : 0 });
    const resumed = await importer().run({ file, batchSize: 100 });
    expect(resumed).toMatchObject({ interrupted: false, written: 999, rejected: 1 });
    expect(await requestsFor('stopwait')).toBe(999);
    // a reject path that is no regular file is written to, never cut
    const again = path.join(dir, 'stop-waiting-2.jsonl');
    writeFileSync(again, `${eventLines('devnull', 300, [5]).join('\n')}\n`);
    await importUntilWritten(again, 100);
    const toNull = await importer().run({ file: again, batchSize: 100, rejectFile: '/dev/null' });
    expect(toNull).toMatchObject({ interrupted: false, written: 299 });
  });

  it('the same bytes under two paths are not imported at once: the second is refused once it has identified them', async () => {
    // Review, 12-04: the lock was the path's alone, so a copy (or the log mounted on two
    // hosts) imported at once was written twice.
    const file = path.join(dir, 'twice-a.jsonl');
    const copy = path.join(dir, 'twice-b.jsonl');
    const lines = eventLines('twice', 3000);
    writeFileSync(file, `${lines.join('\n')}\n`);
    copyFileSync(file, copy);
    // The first import holds at its first part, on an account the test keeps locked.
    const locker = neo4j.driver.session();
    const rowLock = locker.beginTransaction();
    await rowLock.run("MERGE (:Account {id: 'twice-0'})");
    let first: Promise<unknown> | undefined;
    let second: unknown;
    try {
      first = importer().run({ file, batchSize: 500 });
      await waitForBlocked(neo4j.driver, 1, 'the first import never reached its first part');
      // On the old code the copy waited on the same account: released after 10 s.
      second = await Promise.race([
        importer()
          .run({ file: copy, batchSize: 500 })
          .catch((err: unknown) => err),
        new Promise((r) => setTimeout(r, 10_000)).then(() => 'still running'),
      ]);
    } finally {
      await rowLock.rollback();
      await locker.close();
    }
    expect(second).toBeInstanceOf(ImportLocked);
    expect((second as Error).message).toMatch(
      /another import of these bytes \(sha256:[0-9a-f]{64}\)/,
    );
    expect(await first).toMatchObject({ interrupted: false, written: 3000 });
    expect(await requestsFor('twice')).toBe(3000);
    // Once the first is done, the copy is the same import, complete: nothing added.
    expect(await importer().run({ file: copy, batchSize: 500 })).toMatchObject({
      match: 'same',
      thisRun: { written: 0 },
    });
    expect(await requestsFor('twice')).toBe(3000);
  });

  it('an import whose earlier import moved on while it hashed writes nothing, and says to run again', async () => {
    // Review, 12-04: the earlier imports were read before hashing and trusted after the
    // locks: a longer file that continued this unfinished import meanwhile and finished,
    // and this run then resumed it from the old line, writing those lines a second time.
    const { file, longer } = await stoppedWithLonger('moved-on', 'movedon');
    let ran: ReturnType<typeof spawnSync> | undefined;
    // The longer file's whole import, run while this one hashes (its event loop held).
    const runLonger = () => {
      ran ??= spawnSync(process.execPath, ['--import', 'tsx', CLI, 'import', longer], {
        env: cliEnv(),
        encoding: 'utf8',
      });
    };
    await expect(importer().run({ file, batchSize: 100, onHashing: runLonger })).rejects.toThrow(
      /ran while .*moved-on.jsonl was being identified: nothing was written; run the import again/,
    );
    expect(ran?.status).toBe(0);
    expect(await requestsFor('movedon')).toBe(700);
    // Run again, it finds the longer file took its lines over, complete: nothing to do.
    expect(await importer().run({ file, batchSize: 100 })).toMatchObject({
      match: 'continued',
      continuedByComplete: true,
      thisRun: { written: 0 },
    });
    expect(await requestsFor('movedon')).toBe(700);
  });

  it('an import whose lock was taken meanwhile writes no further part, and the next import finishes it', async () => {
    // Review of the lock (12-02): a holder paused past the expiry wrote its next part
    // and checkpoint over the new holder's.
    const file = path.join(dir, 'stolen.jsonl');
    writeFileSync(file, `${eventLines('stolen', 2000).join('\n')}\n`);
    // Windows of 100 events, one part each: the lock is taken (and the taking committed)
    // after window 1 is written and before window 2's part is.
    let parts = 0;
    let holderAtPart2: unknown;
    class StolenBeforePartTwo extends EventWriter {
      override async writeFolded(...args: Parameters<EventWriter['writeFolded']>): Promise<void> {
        if (++parts === 2) {
          const { records } = await neo4j.driver.executeQuery(
            "MATCH (l:ImportLock {file: $file}) SET l.holder = 'thief', l.host = null RETURN l.holder AS holder",
            { file },
          );
          holderAtPart2 = records[0]?.get('holder');
        }
        await super.writeFolded(...args);
      }
    }
    await expect(
      new Importer(db, cypher, new StolenBeforePartTwo(db, cypher)).run({ file, batchSize: 100 }),
    ).rejects.toThrow(/the import lock on .* was lost/);
    expect(holderAtPart2).toBe('thief');
    // Window 1 stays written; window 2's part, and every one after it, is not.
    expect(parts).toBe(2);
    expect(await requestsFor('stolen')).toBe(100);
    expect(Number((await checkpointOf(file))?.line)).toBe(100);
    await neo4j.driver.executeQuery('MATCH (l:ImportLock {file: $file}) DELETE l', { file });
    const resumed = await importer().run({ file, batchSize: 100 });
    expect(resumed).toMatchObject({ interrupted: false, written: 2000 });
    expect(await requestsFor('stolen')).toBe(2000);
  });

  it('an import that lost its lock while hashing (paused past the expiry) touches neither checkpoint nor reject file', async () => {
    // Review, 12-04: nothing before the first part's transaction checked the lock, so a
    // resume paused while hashing (Ctrl-Z) cut the reject file the new holder writes.
    const file = path.join(dir, 'paused.jsonl');
    const rejectFile = `${file}.rejects.jsonl`;
    writeFileSync(file, `${eventLines('paused', 2000).join('\n')}\n`);
    expect(await importUntilWritten(file, 500)).toMatchObject({ interrupted: true });
    const line = Number((await checkpointOf(file))?.line);
    expect(line).toBeGreaterThanOrEqual(500);
    // An entry the import that took the lock wrote, past this run's checkpoint.
    appendFileSync(rejectFile, `${JSON.stringify({ line: 1900, reason: 'theirs' })}\n`);
    const rejectsBefore = readFileSync(rejectFile, 'utf8');
    // The lock taken while this run hashes, committed before it goes on (a child
    // process: this one's event loop is held, as a paused process's would be).
    let stolen = false;
    const steal = () => {
      if (stolen) return;
      stolen = true;
      const script = [
        "const neo4j = require('neo4j-driver');",
        `const d = neo4j.driver(${JSON.stringify(neo4j.uri)}, neo4j.auth.basic('neo4j', ${JSON.stringify(neo4j.password)}));`,
        `d.executeQuery("MATCH (l:ImportLock {file: $file}) SET l.holder = 'thief', l.host = null", { file: ${JSON.stringify(file)} })`,
        '  .then(() => d.close(), (e) => { console.error(e); process.exit(1); });',
      ].join('\n');
      const out = spawnSync(process.execPath, ['-e', script], {
        cwd: path.resolve(__dirname, '../..'),
        encoding: 'utf8',
      });
      if (out.status !== 0) throw new Error(`the thief failed: ${out.stderr}`);
    };
    await expect(importer().run({ file, batchSize: 100, onHashing: steal })).rejects.toThrow(
      /the import lock on .* (was lost|expired and another import took it)/,
    );
    expect(stolen).toBe(true);
    expect(readFileSync(rejectFile, 'utf8')).toBe(rejectsBefore);
    expect(Number((await checkpointOf(file))?.line)).toBe(line);
    await neo4j.driver.executeQuery('MATCH (l:ImportLock {file: $file}) DELETE l', { file });
  });

  it('a log renamed away after it is identified and before it is read: refused before any line is written', async () => {
    // Review of the rotation check (12-02): the new file at the path was read and
    // written under the old file's key.
    const file = path.join(dir, 'renamed-early.jsonl');
    writeFileSync(file, `${eventLines('renamedearly', 2000).join('\n')}\n`);
    await expect(
      importer().run({
        file,
        batchSize: 500,
        onMatch: () => {
          renameSync(file, `${file}.1`);
          writeFileSync(file, `${eventLines('renamednew', 3000).join('\n')}\n`);
        },
      }),
    ).rejects.toThrow(/changed while it was imported \(another file is now at its path\)/);
    expect(await requestsFor('renamedearly')).toBe(0);
    expect(await requestsFor('renamednew')).toBe(0);
    expect((await importer().run({ file: `${file}.1`, batchSize: 500 })).written).toBe(2000);
  });

  it('a file cut short after it is identified and before it is read: refused before any line is written', async () => {
    // Found by review on 12-03: the check at open compared only the inode, so every
    // window but the last was written before the short read was seen.
    const file = path.join(dir, 'cut-before-read.jsonl');
    writeFileSync(file, `${eventLines('cutopen', 1000).join('\n')}\n`);
    const { size } = statSync(file);
    await expect(
      importer().run({ file, batchSize: 100, onMatch: () => truncateSync(file, 20_000) }),
    ).rejects.toThrow(
      `${file} changed while it was imported (cut short: 20000 of the ${size} bytes identified)`,
    );
    expect(await requestsFor('cutopen')).toBe(0);
    expect(await checkpointsAt(file)).toBe(0);
  });

  it('a log copied, cut short and refilled past the reader (copytruncate; same inode) writes none of the new lines under the old import: each counted once', async () => {
    // The refilled bytes were caught only at the end, once the windows read after the cut
    // were written under the old file's import; importing the file again counted those
    // lines twice (17,975 of 40,000 in one run). Each block is now checked as it is read.
    const file = path.join(dir, 'refilled.jsonl');
    const rotated = `${file}.1`;
    writeFileSync(file, `${eventLines('refilled', 20_000).join('\n')}\n`);
    const refilling = importActingOnce(file, () => {
      copyFileSync(file, rotated);
      truncateSync(file, 0);
      appendFileSync(file, `${eventLines('refillednew', 40_000).join('\n')}\n`);
    });
    await expect(refilling.run).rejects.toThrow(
      /changed while it was imported \(its bytes from byte \d+ on are not those identified\)/,
    );
    expect(refilling.acted()).toBe(true);
    expect(await requestsFor('refillednew')).toBe(0);
    const written = await requestsFor('refilled');
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThan(20_000);
    // The rotated copy (the bytes identified) resumes after the last window written.
    const resumed = await importer().run({ file: rotated, batchSize: 5_000 });
    expect(resumed).toMatchObject({ interrupted: false, written: 20_000 });
    expect(resumed.resumedFromLine).toBeGreaterThan(0);
    expect(await requestsFor('refilled')).toBe(20_000);
    // The file as it is now is other content: a new import, read from line 0, once.
    const again = await importer().run({ file, batchSize: 5_000 });
    expect(again).toMatchObject({ interrupted: false, written: 40_000, resumedFromLine: 0 });
    expect(await requestsFor('refillednew')).toBe(40_000);
  });

  it('stopped before a window fills, starts no write of it: a resume reads it again', async () => {
    // Found by review on 12-02: the stop was seen only once a window was full, so an idle
    // writer let the reader finish the window and write it after Ctrl-C.
    const file = path.join(dir, 'stop-early.jsonl');
    writeFileSync(file, `${eventLines('stopearly', 3000, [10]).join('\n')}\n`);
    const abort = new AbortController();
    const stopped = await importer().run({
      file,
      batchSize: 1000,
      signal: abort.signal,
      onMatch: () => abort.abort(), // identified, nothing read yet
    });
    expect(stopped).toMatchObject({ interrupted: true, written: 0, rejected: 0 });
    expect(await requestsFor('stopearly')).toBe(0);
    const resumed = await importer().run({ file, batchSize: 1000 });
    expect(resumed).toMatchObject({ interrupted: false, written: 2999, rejected: 1 });
    expect(await requestsFor('stopearly')).toBe(2999);
  });

  it.each(['copy-then-truncate', 'rename'] as const)(
    'a log rotated during its import (%s) is not marked imported in full; the rotated copy resumes it, nothing lost or counted twice',
    async (how) => {
      // Found by review on 12-02: the import read what was left, marked the file
      // complete, and the rotated copy (same content, same key) then added nothing.
      const prefix = `logrotate-${how}`;
      const file = path.join(dir, `${prefix}.jsonl`);
      const rotated = `${file}.1`;
      writeFileSync(file, `${eventLines(prefix, 50_000).join('\n')}\n`);
      const rotating = importActingOnce(file, () => {
        if (how === 'rename') {
          renameSync(file, rotated);
          writeFileSync(file, `${eventLines(`new-${prefix}`, 10).join('\n')}\n`);
        } else {
          copyFileSync(file, rotated);
          truncateSync(file, 0);
        }
      });
      await expect(rotating.run).rejects.toThrow(/changed while it was imported/);
      expect(rotating.acted()).toBe(true);
      const resumed = await importer().run({ file: rotated, batchSize: 5_000 });
      expect(resumed.resumedFromLine).toBeGreaterThan(0);
      expect(await requestsFor(prefix)).toBe(50_000);
    },
  );

  it('imports good lines and writes bad ones with line number and reason to the reject file', async () => {
    const file = path.join(dir, 'mixed.jsonl');
    writeFileSync(file, `${eventLines('mix', 100, [7, 50]).join('\n')}\n\n`);
    const summary = await importer().run({ file, batchSize: 16 });
    expect(summary).toMatchObject({
      written: 98,
      duplicates: 0,
      rejected: 2,
      interrupted: false,
      resumedFromLine: 0,
      thisRun: { written: 98, duplicates: 0, rejected: 2 },
    });
    expect(await requestsFor('mix')).toBe(98);
    const rejects = rejectEntries(summary.rejectFile);
    expect(rejects.map((r) => r.line)).toEqual([7, 50]);
    expect(rejects[0]?.reason).toMatch(/invalid JSON/);
    expect(rejects[1]?.issues?.map((i) => i.path).sort()).toEqual(['accountId', 'at']);
  });

  it('of two events at the same time naming different orgs, keeps the greater, keyed or not', async () => {
    // The importer writes a window's keyed events apart from its folded ones, so the
    // rule must not depend on which is written last (the REST path keeps the same).
    const at = '2026-03-02T10:00:00Z';
    const line = (accountId: string, org: string, id?: string) =>
      JSON.stringify({ type: 'request', accountId, at, org, emailDomain: `${org}.example`, id });
    const file = path.join(dir, 'tie.jsonl');
    writeFileSync(
      file,
      [
        line('tie:keyed-first', 'o-b', 'tie-1'),
        line('tie:keyed-first', 'o-a'),
        line('tie:folded-first', 'o-b'),
        line('tie:folded-first', 'o-a', 'tie-2'),
        line('tie:both-keyed', 'o-a', 'tie-3'),
        line('tie:both-keyed', 'o-b', 'tie-4'),
        '',
      ].join('\n'),
    );
    expect((await importer().run({ file, batchSize: 16 })).written).toBe(6);
    const rows = await neo4j.driver.executeQuery(
      `MATCH (a:Account) WHERE a.id STARTS WITH 'tie:'
       RETURN a.id AS id, a.org AS org, a.emailDomain AS domain ORDER BY id`,
    );
    expect(rows.records.map((r) => r.toObject())).toEqual(
      ['tie:both-keyed', 'tie:folded-first', 'tie:keyed-first'].map((id) => ({
        id,
        org: 'o-b',
        domain: 'o-b.example',
      })),
    );
  });

  it('reads gzip and, run again on a finished file, adds nothing', async () => {
    const file = path.join(dir, 'events.jsonl.gz');
    writeFileSync(file, gzipSync(eventLines('gz', 300).join('\n')));
    const first = await importer().run({ file, batchSize: 64 });
    expect(first.written).toBe(300);
    const again = await importer().run({ file, batchSize: 64 });
    expect(again.resumedFromLine).toBe(300);
    // The file's totals stand; this run's own counts say nothing was added.
    expect(again).toMatchObject({ written: 300, lines: 300 });
    expect(again.thisRun).toEqual({ written: 0, duplicates: 0, rejected: 0 });
    expect(await requestsFor('gz')).toBe(300);
  });

  it('knows gzip by its bytes, not its name: upper case, a link named latest, a text file named .gz', async () => {
    // Review, 12-05: only a lower-case `.gz` name was gunzipped; any other gzip was read
    // as text, every "line" of it rejected, and the junk import recorded complete.
    const upper = path.join(dir, 'UPPER-EVENTS.JSONL.GZ');
    writeFileSync(upper, gzipSync(`${eventLines('gzup', 120).join('\n')}\n`));
    expect(await importer().run({ file: upper, batchSize: 50 })).toMatchObject({
      written: 120,
      rejected: 0,
    });
    const latest = path.join(dir, 'latest');
    symlinkSync(path.join(dir, 'gz-by-link.jsonl.gz'), latest);
    writeFileSync(latest, gzipSync(`${eventLines('gzlink', 80).join('\n')}\n`));
    expect(await importer().run({ file: latest, batchSize: 50 })).toMatchObject({
      written: 80,
      rejected: 0,
    });
    const text = path.join(dir, 'not-really.jsonl.gz');
    writeFileSync(text, `${eventLines('gztext', 60).join('\n')}\n`);
    expect(await importer().run({ file: text, batchSize: 50 })).toMatchObject({
      written: 60,
      rejected: 0,
    });
    expect(await requestsFor('gzup')).toBe(120);
    expect(await requestsFor('gzlink')).toBe(80);
    expect(await requestsFor('gztext')).toBe(60);
  });

  it('a .gz cut short or gone fails cleanly, naming the file and the line; the windows before stay written', async () => {
    // Found by review on 12-03: `raw.pipe(gunzip)` passed none of the file's errors on (a
    // .gz removed before it was read crashed the process with an uncaught ENOENT), and
    // gzip's own errors said only `unexpected end of file`.
    const file = path.join(dir, 'cut-short.jsonl.gz');
    const whole = gzipSync(`${eventLines('gzcut', 3000).join('\n')}\n`);
    writeFileSync(file, whole.subarray(0, Math.floor(whole.length * 0.6)));
    const cut = importer().run({ file, batchSize: 100 });
    await expect(cut).rejects.toThrow(
      new RegExp(
        `^reading ${file} \\(gzip\\) after line \\d+ \\(\\d+ compressed bytes read\\): unexpected end of file$`,
      ),
    );
    const line = Number((await checkpointOf(file))!.line);
    expect(line).toBeGreaterThanOrEqual(1000);
    expect(line).toBeLessThan(3000);
    // every window that began was finished before the error was thrown
    expect(await requestsFor('gzcut')).toBe(line);

    const gone = path.join(dir, 'gone.jsonl.gz');
    writeFileSync(gone, gzipSync(`${eventLines('gzgone', 300).join('\n')}\n`));
    await expect(
      importer().run({ file: gone, batchSize: 100, onMatch: () => rmSync(gone) }),
    ).rejects.toThrow(
      `reading ${gone} (gzip) after line 0 (0 compressed bytes read): ENOENT: no such file or directory`,
    );
    expect(await requestsFor('gzgone')).toBe(0);

    // gzip's first two bytes, then no gzip (a text file named .gz is read as text: below)
    const corrupt = path.join(dir, 'corrupt.jsonl.gz');
    writeFileSync(corrupt, Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.from('{"type":')]));
    const res = await runCli(['import', corrupt]);
    expect(res.code).toBe(1);
    // its first line is read (to find earlier imports) before anything else
    expect(res.stderr).toContain(
      `coterie: reading the first line of ${corrupt} (gzip): unknown compression method`,
    );
  });

  it('resumes after a polite stop without counting anything twice', async () => {
    const file = path.join(dir, 'stop.jsonl');
    writeFileSync(file, `${eventLines('stop', 1000, [333]).join('\n')}\n`);
    const first = await importUntilWritten(file, 300);
    expect(first.interrupted).toBe(true);
    const partial = await requestsFor('stop');
    expect(partial).toBeGreaterThanOrEqual(300);
    expect(partial).toBeLessThan(999);
    const reports: number[] = [];
    const second = await importer().run({
      file,
      batchSize: 100,
      onProgress: (p) => reports.push(p.written),
    });
    expect(second.resumedFromLine).toBeGreaterThan(0);
    // The first report, before any write, carries the checkpoint's counts (the CLI's rate baseline).
    expect(reports[0]).toBe(first.written);
    expect(second).toMatchObject({ written: 999, rejected: 1, interrupted: false });
    expect(await requestsFor('stop')).toBe(999);
    expect(readFileSync(second.rejectFile, 'utf8').trim().split('\n')).toHaveLength(1);
  });

  it('a reject file that cannot be written fails the import before its first window, bad lines or none', async () => {
    // Review, 12-05: it failed only once a line was bad (a window had committed by then),
    // and with no bad line not at all, the path never opened.
    const rejectFile = path.join(dir, 'no-such-dir', 'rejects.jsonl');
    for (const [name, bad] of [
      ['nrd', [150]],
      ['nrd-clean', []],
    ] as const) {
      const file = path.join(dir, `${name}.jsonl`);
      writeFileSync(file, `${eventLines(name, 300, [...bad]).join('\n')}\n`);
      await expect(importer().run({ file, batchSize: 100, rejectFile })).rejects.toThrow(
        `cannot write the reject file ${rejectFile}: ENOENT`,
      );
      expect(Number((await checkpointOf(file))?.line ?? 0)).toBe(0);
      expect(await requestsFor(name)).toBe(0);
    }
  });

  it('a reject file that is the file to import is refused before anything is read, cut or written', async () => {
    // Found by review on 12-03: `--rejects events.jsonl` cut the input to 0 bytes on start
    // (the resume's cut of reject entries past the checkpoint).
    const file = path.join(dir, 'rejects-is-input.jsonl');
    writeFileSync(file, `${eventLines('rejin', 300, [5]).join('\n')}\n`);
    const bytes = readFileSync(file);
    const link = path.join(dir, 'rejects-is-input-link.jsonl');
    linkSync(file, link);
    for (const rejectFile of [file, link]) {
      await expect(importer().run({ file, batchSize: 100, rejectFile })).rejects.toThrow(
        `the reject file ${rejectFile} is the file to import, ${file}`,
      );
    }
    expect(readFileSync(file)).toEqual(bytes);
    expect(await checkpointsAt(file)).toBe(0);
    expect(await requestsFor('rejin')).toBe(0);
    // an import stopped after its first window, resumed with the input as its reject file
    await importUntilWritten(file, 100);
    expect(Number((await checkpointOf(file))!.line)).toBeGreaterThan(0);
    await expect(importer().run({ file, batchSize: 100, rejectFile: file })).rejects.toThrow(
      /is the file to import/,
    );
    expect(readFileSync(file)).toEqual(bytes);
    const locks = await neo4j.driver.executeQuery(
      'MATCH (l:ImportLock {file: $file}) RETURN count(l) AS n',
      { file },
    );
    expect(Number(locks.records[0]?.get('n'))).toBe(0);
    expect(await importer().run({ file, batchSize: 100 })).toMatchObject({
      written: 299,
      rejected: 1,
    });
    expect(await requestsFor('rejin')).toBe(299);
  });

  it('a resumed import given another file as its reject file keeps what that file held', async () => {
    // Review, 12-05: a resume cut the reject file at its first line that was no entry up
    // to the checkpoint: another input named by `--rejects` (tab completion) was emptied.
    const file = path.join(dir, 'resume-other-rejects.jsonl');
    writeFileSync(file, `${eventLines('ror', 1000, [700]).join('\n')}\n`);
    expect((await importUntilWritten(file, 300)).interrupted).toBe(true);
    const other = path.join(dir, 'resume-other-input.jsonl');
    const held = `${eventLines('ror-other', 20, []).join('\n')}\n`;
    writeFileSync(other, held);
    const resumed = await importer().run({ file, batchSize: 100, rejectFile: other });
    expect(resumed).toMatchObject({ written: 999, rejected: 1, interrupted: false });
    expect(resumed.resumedFromLine).toBeGreaterThan(0);
    const note = resumed.warnings.find((w) => w.includes('did not begin with reject entries'));
    const aside = /now in (.+)$/.exec(note ?? '')?.[1] as string;
    expect(aside).toMatch(/resume-other-input\.before-.+\.jsonl$/);
    expect(readFileSync(aside, 'utf8')).toBe(held);
    expect(rejectEntries(other).map((r) => r.line)).toEqual([700]);
  });

  it('resumes past a reject entry a crash cut short, keeping the whole ones up to the checkpoint', async () => {
    const file = path.join(dir, 'torn.jsonl');
    writeFileSync(file, `${eventLines('torn', 1000, [50, 700]).join('\n')}\n`);
    const first = await importUntilWritten(file, 200);
    expect(first.interrupted).toBe(true);
    const rejectFile = `${file}.rejects.jsonl`;
    // a crash while the entry for a line past the checkpoint was being written
    appendFileSync(rejectFile, '{"line":650,"reas');
    const second = await importer().run({ file, batchSize: 100 });
    expect(second).toMatchObject({ written: 998, rejected: 2, interrupted: false });
    expect(rejectEntries(rejectFile).map((r) => r.line)).toEqual([50, 700]);
  });

  it('writes a big window in parts and resumes a window stopped between parts', async () => {
    const file = path.join(dir, 'parts.jsonl');
    // 300 accounts (so a window spans many parts), each a keyed sign-up then requests.
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const at = new Date(Date.UTC(2026, 1, 1) + i * 1000).toISOString();
      const accountId = `parts-${i % 300}`;
      lines.push(
        JSON.stringify(
          i < 300
            ? { id: `parts-signup-${i}`, type: 'signup', accountId, at }
            : { type: 'request', accountId, at, ip: `10.1.${i % 7}.1`, model: 'm-parts' },
        ),
      );
    }
    writeFileSync(file, `${lines.join('\n')}\n`);
    const opts = { file, batchSize: 1000, partRows: 40 };
    // Abort once window 1 is in: window 2 then stops after its first part.
    const first = await importUntilWindowOne(opts);
    expect(first).toMatchObject({ interrupted: true, written: 1000 });
    const cp = await checkpointOf(file);
    expect({ line: Number(cp!.line), end: Number(cp!.end), parts: Number(cp!.parts) }).toEqual({
      line: 1000,
      end: 2000,
      parts: 1,
    });

    const second = await importer().run(opts);
    expect(second).toMatchObject({ written: 3000, duplicates: 0, interrupted: false });
    expect(await requestsFor('parts')).toBe(2700);
    // Each process's thisRun is what its own parts wrote: the first also wrote window 2's
    // first part, which the resume skipped; together they wrote each event once.
    expect(first.thisRun.written).toBeGreaterThan(1000);
    expect(first.thisRun.written).toBeLessThan(2000);
    expect(first.thisRun.written + second.thisRun.written).toBe(3000);
    const [models] = (
      await neo4j.driver.executeQuery(
        'MATCH (a:Account)-[u:USED_MODEL]->(:Model {name: "m-parts"}) RETURN count(a) AS accounts, sum(u.count) AS uses',
      )
    ).records.map((r) => r.toObject());
    expect(Number(models!.accounts)).toBe(300);
    expect(Number(models!.uses)).toBe(2700);
    const again = await importer().run(opts);
    expect(again).toMatchObject({ written: 3000, duplicates: 0 });
    expect(await requestsFor('parts')).toBe(2700);
  });

  it('a window that failed after some parts (past Neo4j transaction memory) resumes with a lower IMPORT_PART_ROWS', async () => {
    // Found by review on 12-03: a resumed window was cut with the part size in its
    // checkpoint, so lowering IMPORT_PART_ROWS, as the memory error advises, changed
    // nothing for the part that failed.
    const file = path.join(dir, 'part-memory.jsonl');
    const lines: string[] = [];
    for (let i = 0; i < 800; i++) {
      const at = new Date(Date.UTC(2026, 1, 3) + i * 1000).toISOString();
      const accountId = `partmem-${i % 80}`;
      lines.push(
        JSON.stringify(
          i < 80
            ? { id: `partmem-signup-${i}`, type: 'signup', accountId, at }
            : { type: 'request', accountId, at, ip: `10.3.${i % 7}.1`, model: 'm-partmem' },
        ),
      );
    }
    writeFileSync(file, `${lines.join('\n')}\n`);
    /** Writes parts until its `failAt`-th (keyed or folded), which fails as past memory would. */
    class Parts extends EventWriter {
      calls = 0;
      /** rows of each folded part, events of each keyed part */
      sizes: { keyed: number[]; folded: number[] } = { keyed: [], folded: [] };
      constructor(private readonly failAt = Infinity) {
        super(db, cypher);
      }
      private next() {
        if (++this.calls === this.failAt)
          throw new Error('needs more memory than one transaction may use (simulated)');
      }
      override async write(...args: Parameters<EventWriter['write']>) {
        this.next();
        this.sizes.keyed.push(args[0].length);
        return super.write(...args);
      }
      override async writeFolded(...args: Parameters<EventWriter['writeFolded']>) {
        this.next();
        this.sizes.folded.push(Object.values(args[0]).reduce((n, rows) => n + rows.length, 0));
        return super.writeFolded(...args);
      }
    }
    const run = (writer: Parts, partRows: number) =>
      new Importer(db, cypher, writer).run({ file, batchSize: 800, partRows });
    // One window: 80 keyed events, then 80 accounts' folded rows (at most 9 each).
    // Parts of 30: keyed events 0-29 and 30-59 commit, 60-79 fails.
    await expect(run(new Parts(3), 30)).rejects.toThrow(/simulated/);
    expect(Number((await checkpointOf(file))!.parts)).toBe(2);
    // As a checkpoint written before positions were kept: the parts of a cut by 30.
    await neo4j.driver.executeQuery(
      'MATCH (c:ImportCheckpoint {file: $file}) REMOVE c.windowKeyed, c.windowAccount',
      { file },
    );
    // Parts of 25: keyed 60-79 and one group of accounts commit, the next fails.
    const second = new Parts(3);
    await expect(run(second, 25)).rejects.toThrow(/simulated/);
    expect(second.sizes.keyed).toEqual([20]);
    expect(second.sizes.folded[0]).toBeLessThanOrEqual(25);
    expect(Number((await checkpointOf(file))!.parts)).toBe(4);
    // Parts of 12 finish it: every part within 12 rows, nothing written twice or skipped.
    const third = new Parts();
    expect(await run(third, 12)).toMatchObject({
      written: 800,
      duplicates: 0,
      rejected: 0,
      interrupted: false,
    });
    expect(third.sizes.keyed).toEqual([]);
    expect(third.sizes.folded.length).toBeGreaterThan(0);
    expect(Math.max(...third.sizes.folded)).toBeLessThanOrEqual(12);
    expect(await requestsFor('partmem')).toBe(720);
    const [graph] = (
      await neo4j.driver.executeQuery(
        `MATCH (a:Account)-[u:USED_MODEL]->(:Model {name: 'm-partmem'})
         WITH count(a) AS accounts, sum(u.count) AS uses
         MATCH (e:IngestedEvent) WHERE e.id STARTS WITH 'partmem-signup-'
         RETURN accounts, uses, count(e) AS keys`,
      )
    ).records.map((r) => r.toObject());
    expect({
      accounts: Number(graph!.accounts),
      uses: Number(graph!.uses),
      keys: Number(graph!.keys),
    }).toEqual({ accounts: 80, uses: 720, keys: 80 });
    const signups = await neo4j.driver.executeQuery(
      "MATCH (a:Account) WHERE a.id STARTS WITH 'partmem-' AND a.signupAt IS NOT NULL RETURN count(a) AS n",
    );
    expect(Number(signups.records[0]?.get('n'))).toBe(80);
  });

  it('a resumed window judges its lines by the clock it was first read with', async () => {
    const file = path.join(dir, 'clock.jsonl');
    // Line 1,500 is 24 h and 30 s past the first run's clock: rejected when window 2 is
    // first read, and within the 24 h the resume's clock (a minute on) would allow.
    const t0 = Date.UTC(2026, 5, 1);
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const at = new Date(
        i === 1499 ? t0 + 24 * 3600_000 + 30_000 : Date.UTC(2026, 1, 1) + i * 1000,
      ).toISOString();
      const accountId = `clock-${i % 300}`;
      lines.push(
        JSON.stringify(
          i < 300
            ? { id: `clock-signup-${i}`, type: 'signup', accountId, at }
            : { type: 'request', accountId, at, ip: `10.2.${i % 7}.1` },
        ),
      );
    }
    writeFileSync(file, `${lines.join('\n')}\n`);
    const opts = { file, batchSize: 1000, partRows: 40 };
    const first = await importUntilWindowOne({ ...opts, clock: () => t0 });
    expect(first).toMatchObject({ interrupted: true, written: 1000 });
    expect(Number((await checkpointOf(file))!.parts)).toBe(1); // window 2 is open
    const second = await importer().run({ ...opts, clock: () => t0 + 60_000 });
    expect(second).toMatchObject({ written: 2999, rejected: 1, duplicates: 0, interrupted: false });
    expect(await requestsFor('clock')).toBe(2699);
    expect(readFileSync(second.rejectFile, 'utf8').trim().split('\n')).toEqual([
      expect.stringContaining('"line":1500'),
    ]);
    // The rejected line counts for the process that committed its window.
    expect([first.thisRun.rejected, second.thisRun.rejected]).toEqual([0, 1]);
  });

  it('stopped mid-window while the next window waits, resumes the stopped window and counts nothing twice', async () => {
    // Ctrl-C lands while window 1 is between its parts and window 2 is parsed and
    // waiting to be written: window 2 must not start (it would replace window 1's
    // open-window checkpoint, and the resume would write window 1's parts again).
    const file = path.join(dir, 'midwindow.jsonl');
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const at = new Date(Date.UTC(2026, 1, 2) + i * 1000).toISOString();
      lines.push(
        JSON.stringify({ type: 'request', accountId: `mid-${i % 300}`, at, ip: `10.2.${i % 5}.1` }),
      );
    }
    writeFileSync(file, `${lines.join('\n')}\n`);
    const opts = { file, batchSize: 1000, partRows: 40 };
    const abort = new AbortController();
    let parts = 0;
    // Lines read, as the importer reports them (every 0.5 s while it reads or waits).
    let linesRead = 0;
    class StopInWindowOne extends EventWriter {
      override async writeFolded(...args: Parameters<EventWriter['writeFolded']>): Promise<void> {
        await super.writeFolded(...args);
        if (++parts === 2) {
          // The reader has parsed window 2 (lines 1,001-2,000) and waits on this one (it
          // reads no further until window 1's write is done): then the stop comes.
          for (const until = Date.now() + 30_000; linesRead < 2000;) {
            if (Date.now() > until) throw new Error(`the reader stopped at line ${linesRead}`);
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
          abort.abort();
        }
      }
    }
    const first = await new Importer(db, cypher, new StopInWindowOne(db, cypher)).run({
      ...opts,
      signal: abort.signal,
      onProgress: (p) => (linesRead = p.lines),
    });
    expect(linesRead).toBe(2000);
    expect(first.interrupted).toBe(true);
    const partsInFirstRun = parts;
    const cp = await checkpointOf(file);
    const second = await importer().run(opts);
    // Every request once (with window 2 started, 3,000 + window 1's two written parts).
    expect(await requestsFor('mid')).toBe(3000);
    expect(second).toMatchObject({ written: 3000, duplicates: 0, interrupted: false });
    expect(partsInFirstRun).toBe(2);
    expect({ line: Number(cp!.line ?? 0), end: Number(cp!.end), parts: Number(cp!.parts) }).toEqual(
      {
        line: 0,
        end: 1000,
        parts: 2,
      },
    );
  });

  it('a commit that went through but whose answer was lost, retried, writes nothing twice', async () => {
    // Every write transaction runs twice, as the driver retries one whose commit
    // succeeded but whose connection died before the answer (seen with a TCP proxy).
    const file = path.join(dir, 'retried.jsonl');
    writeFileSync(file, `${eventLines('retried', 900).join('\n')}\n`);
    const twice = new CommitsTwice(neo4j.driver);
    const summary = await new Importer(twice, cypher, new EventWriter(twice, cypher)).run({
      file,
      batchSize: 400,
      partRows: 4,
    });
    expect(await requestsFor('retried')).toBe(900);
    expect(summary).toMatchObject({ written: 900, duplicates: 0, interrupted: false });
  });

  it('an appended file whose continuing commit went through but whose answer was lost goes on', async () => {
    // Review, 12-05: the re-run of the transaction that copies the checkpoint it continues
    // found its own copy and refused, exit 2 "nothing was written" (the copy was).
    const file = path.join(dir, 'retried-appended.jsonl');
    const lines = eventLines('retried-app', 130);
    writeFileSync(file, `${lines.slice(0, 100).join('\n')}\n`);
    expect((await importer().run({ file, batchSize: 32 })).written).toBe(100);
    appendFileSync(file, `${lines.slice(100).join('\n')}\n`);
    const twice = new CommitsTwice(neo4j.driver);
    const summary = await new Importer(twice, cypher, new EventWriter(twice, cypher)).run({
      file,
      batchSize: 32,
    });
    expect(summary).toMatchObject({
      match: 'appended',
      resumedFromLine: 100,
      written: 130,
      thisRun: { written: 30 },
    });
    expect(await requestsFor('retried-app')).toBe(130);
  });

  it('a keyed part whose commit went through but whose answer was lost counts its events as written', async () => {
    // The parts with idempotency keys go through EventWriter.write: the re-run finds the
    // write's marker and answers what the first run stored, instead of duplicates.
    const file = path.join(dir, 'retried-keyed.jsonl');
    const lines = eventLines('retried-keyed', 900).map((line, i) =>
      JSON.stringify({ ...JSON.parse(line), id: `retried-keyed-${i}` }),
    );
    writeFileSync(file, `${lines.join('\n')}\n`);
    const twice = new CommitsTwice(neo4j.driver);
    const summary = await new Importer(twice, cypher, new EventWriter(twice, cypher)).run({
      file,
      batchSize: 400,
      partRows: 150,
    });
    expect(await requestsFor('retried-keyed')).toBe(900);
    expect(summary).toMatchObject({ written: 900, duplicates: 0, interrupted: false });
  });

  it('resumes after the CLI process is killed mid-import', async () => {
    const file = path.join(dir, 'killed.jsonl');
    const lines = eventLines('kill', 40000, [12345]);
    // Line 20,000 is the only event of 'kill-late'. The test holds that account's creation
    // uncommitted, so the import stops there, mid-file, however fast or slow it runs.
    lines[19999] = JSON.stringify({
      ...JSON.parse(lines[19999] as string),
      accountId: 'kill-late',
    });
    writeFileSync(file, `${lines.join('\n')}\n`);
    const run = (onOutput?: (child: ReturnType<typeof spawn>) => void) =>
      runCli(['import', file, '--batch-size', '500'], onOutput);

    const locker = neo4j.driver.session();
    const lock = locker.beginTransaction();
    await lock.run("MERGE (:Account {id: 'kill-late'})");
    let killed: Awaited<ReturnType<typeof run>>;
    try {
      killed = await run((child) => {
        void waitForBlocked(neo4j.driver, 1, 'import blocked at line 20,000')
          .catch(() => undefined) // killed anyway; the counts below then fail
          .finally(() => child.kill('SIGKILL'));
      });
    } finally {
      await lock.rollback();
      await locker.close();
    }
    expect(killed.signal).toBe('SIGKILL');
    // every window before line 19,501 committed (less the bad line), nothing past 20,000
    const partial = await requestsFor('kill');
    expect(partial).toBeGreaterThanOrEqual(19499);
    expect(partial).toBeLessThan(19999);

    const resumed = await run();
    expect(resumed.code).toBe(0);
    const summary = JSON.parse(resumed.stdout.trim().split('\n').pop() as string);
    expect(summary.resumedFromLine).toBeGreaterThan(0);
    expect(summary).toMatchObject({ written: 39999, rejected: 1, interrupted: false });
    expect(await requestsFor('kill')).toBe(39999);
    expect(resumed.stderr).toContain(`1 of 40000 lines rejected; reasons in ${file}.rejects.jsonl`);
  });

  it('a long run of bad lines moves the progress on and is checkpointed as it is read', async () => {
    // Found by review on 12-03: windows were counted in valid events only, so a file of
    // bad lines showed no progress and a stop sent the next run back to line 0.
    const file = path.join(dir, 'bad-run.jsonl');
    // (bad lines of its own: a first line another test's file shares would be an overlap)
    const bad = Array.from({ length: 1000 }, (_, i) => `{"badrun": ${i}`);
    writeFileSync(file, `${[...bad, ...eventLines('badrun', 10)].join('\n')}\n`);
    const abort = new AbortController();
    const seen: { bytesRead: number; rejected: number }[] = [];
    const stopped = await importer().run({
      file,
      batchSize: 100,
      signal: abort.signal,
      onProgress: (p) => {
        seen.push({ bytesRead: p.bytesRead, rejected: p.rejected });
        if (p.rejected >= 400) abort.abort();
      },
    });
    expect(stopped).toMatchObject({ interrupted: true, written: 0 });
    // windows of 4 × 100 lines, none of them valid, committed with their checkpoints (the
    // one waiting when the stop came too)
    const line = Number((await checkpointOf(file))!.line);
    expect([400, 800]).toContain(line);
    expect(seen.some((p) => p.rejected >= 400 && p.bytesRead > 0)).toBe(true);
    const resumed = await importer().run({ file, batchSize: 100 });
    expect(resumed).toMatchObject({ resumedFromLine: line, written: 10, rejected: 1000 });
    expect(readFileSync(resumed.rejectFile, 'utf8').trim().split('\n')).toHaveLength(1000);
  });

  it('exits 1 from the CLI when no line of the file is a valid event', async () => {
    const file = path.join(dir, 'all-bad.jsonl');
    writeFileSync(file, `${eventLines('allbad', 4, [1, 2, 3, 4]).join('\n')}\n`);
    const res = await runCli(['import', file]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(
      `no line of ${file} is a valid event (4 rejected; reasons in ${file}.rejects.jsonl)`,
    );
    expect(JSON.parse(res.stdout.trim().split('\n').pop() as string)).toMatchObject({
      written: 0,
      rejected: 4,
    });
    expect(readFileSync(`${file}.rejects.jsonl`, 'utf8').trim().split('\n')).toHaveLength(4);
    // Run again, it was answered "already imported in full" with exit 0 (review, 12-06).
    const again = await runCli(['import', file]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(
      `no line of ${file} is a valid event (4 rejected; reasons in ${file}.rejects.jsonl); it was imported before`,
    );
    expect(again.stderr).not.toContain('already imported in full');
  });
});

/** Each account's requests and IP uses (CONNECTED_FROM counts) in Neo4j. */
async function accountsOf(prefix: string): Promise<Record<string, [number, number]>> {
  const res = await neo4j.driver.executeQuery(
    `MATCH (a:Account) WHERE a.id STARTS WITH $p
     OPTIONAL MATCH (a)-[r:CONNECTED_FROM]->()
     RETURN a.id AS id, a.requests AS requests, sum(r.count) AS ipUses`,
    { p: `${prefix}-` },
  );
  return Object.fromEntries(
    res.records.map((r) => [r.get('id'), [Number(r.get('requests')), Number(r.get('ipUses'))]]),
  );
}

/** The same, as the valid lines give them, each counted once per file in `files`. */
function expectedAccounts(...files: string[][]): Record<string, [number, number]> {
  const out: Record<string, [number, number]> = {};
  for (const line of files.flat()) {
    let event: { accountId?: unknown; ip?: unknown };
    try {
      event = JSON.parse(line) as typeof event;
    } catch {
      continue;
    }
    if (typeof event.accountId !== 'string' || !/^[\w-]+$/.test(event.accountId)) continue;
    const seen = (out[event.accountId] ??= [0, 0]);
    seen[0]++;
    if (event.ip) seen[1]++;
  }
  return out;
}

describe('what identifies an import: its bytes', () => {
  it('a file with lines appended continues its import: only the new events are counted', async () => {
    const file = path.join(dir, 'appended.jsonl');
    const lines = eventLines('app', 130);
    writeFileSync(file, `${lines.slice(0, 100).join('\n')}\n`);
    const first = await importer().run({ file, batchSize: 32 });
    expect(first).toMatchObject({ match: 'new', written: 100, warnings: [] });
    expect(await accountsOf('app')).toEqual(expectedAccounts(lines.slice(0, 100)));

    appendFileSync(file, `${lines.slice(100).join('\n')}\n`);
    const second = await importer().run({ file, batchSize: 32 });
    expect(second).toMatchObject({
      match: 'appended',
      matchedFile: file,
      resumedFromLine: 100,
      lines: 130,
      written: 130,
      thisRun: { written: 30, duplicates: 0, rejected: 0 },
      warnings: [],
    });
    expect(await accountsOf('app')).toEqual(expectedAccounts(lines));
    expect(await requestsFor('app')).toBe(130);

    // Appended to again, and imported once more when nothing was: each line once.
    appendFileSync(file, `${eventLines('app', 140).slice(130).join('\n')}\n`);
    expect((await importer().run({ file, batchSize: 32 })).thisRun.written).toBe(10);
    const again = await importer().run({ file, batchSize: 32 });
    expect(again).toMatchObject({ match: 'same', thisRun: { written: 0 }, written: 140 });
    expect(await accountsOf('app')).toEqual(expectedAccounts(eventLines('app', 140)));
  });

  it('an append to an import stopped mid-window continues from that open window', async () => {
    const file = path.join(dir, 'appended-open.jsonl');
    const lines = Array.from({ length: 1500 }, (_, i) =>
      JSON.stringify({
        type: 'request',
        accountId: `appw-${i % 150}`,
        at: new Date(Date.UTC(2026, 1, 5) + i * 1000).toISOString(),
        ip: `10.3.${i % 4}.1`,
      }),
    );
    writeFileSync(file, `${lines.slice(0, 1200).join('\n')}\n`);
    const opts = { file, batchSize: 500, partRows: 40 };
    // Abort once window 1 is in: window 2 then stops after its first part.
    const first = await importUntilWindowOne(opts);
    expect(first).toMatchObject({ interrupted: true, written: 500 });
    const cp = await checkpointOf(file);
    expect([Number(cp!.line), Number(cp!.end), Number(cp!.parts)]).toEqual([500, 1000, 1]);

    appendFileSync(file, `${lines.slice(1200).join('\n')}\n`);
    const second = await importer().run(opts);
    expect(second).toMatchObject({
      match: 'appended',
      resumedFromLine: 500,
      written: 1500,
      duplicates: 0,
      interrupted: false,
    });
    expect(await accountsOf('appw')).toEqual(expectedAccounts(lines));
  });

  it('the same bytes at another path add nothing, and an unfinished import resumes at its copy', async () => {
    const file = path.join(dir, 'original.jsonl');
    const lines = eventLines('cpy', 200);
    writeFileSync(file, `${lines.join('\n')}\n`);
    await importer().run({ file, batchSize: 50 });
    const copy = path.join(dir, 'copy-of-original.jsonl');
    copyFileSync(file, copy);
    const fromCopy = await importer().run({ file: copy, batchSize: 50 });
    expect(fromCopy).toMatchObject({
      match: 'same',
      matchedFile: file,
      resumedFromLine: 200,
      written: 200,
      thisRun: { written: 0, duplicates: 0, rejected: 0 },
      warnings: [],
    });
    const moved = path.join(dir, 'moved', 'original.jsonl');
    mkdirSync(path.dirname(moved));
    renameSync(file, moved);
    expect((await importer().run({ file: moved, batchSize: 50 })).thisRun.written).toBe(0);
    expect(await accountsOf('cpy')).toEqual(expectedAccounts(lines));

    // Stopped half way, then the copy imported: it resumes, nothing counted twice.
    const halfway = path.join(dir, 'halfway.jsonl');
    const more = eventLines('cpyhalf', 600);
    writeFileSync(halfway, `${more.join('\n')}\n`);
    const abort = new AbortController();
    const stopped = await importer().run({
      file: halfway,
      batchSize: 100,
      signal: abort.signal,
      onProgress: (p) => {
        if (p.written >= 200) abort.abort();
      },
    });
    expect(stopped.interrupted).toBe(true);
    const halfwayCopy = path.join(dir, 'halfway-copy.jsonl');
    copyFileSync(halfway, halfwayCopy);
    const resumed = await importer().run({ file: halfwayCopy, batchSize: 100 });
    expect(resumed).toMatchObject({ match: 'same', written: 600, interrupted: false });
    expect(resumed.resumedFromLine).toBeGreaterThan(0);
    expect(await accountsOf('cpyhalf')).toEqual(expectedAccounts(more));
  });

  it('a rewritten or truncated file at the same path is refused before any write, and imported with recount', async () => {
    const file = path.join(dir, 'rewritten.jsonl');
    const original = eventLines('rw', 50);
    writeFileSync(file, `${original.join('\n')}\n`);
    await importer().run({ file, batchSize: 16 });
    // Lines 31-50 replaced by 30 others: longer, but not the earlier file plus lines.
    const rewritten = [...original.slice(0, 30), ...eventLines('rw', 80).slice(50)];
    writeFileSync(file, `${rewritten.join('\n')}\n`);
    const refused = importer().run({ file, batchSize: 16 });
    await expect(refused).rejects.toThrow(ImportRefused);
    await expect(refused).rejects.toMatchObject({
      earlierFile: file,
      reason: expect.stringMatching(
        /imported before \(50 lines\) with other content.*rewritten or truncated/,
      ),
    });
    // Refused before anything was written: the graph and the checkpoints are as they were.
    expect(await accountsOf('rw')).toEqual(expectedAccounts(original));
    expect(await checkpointsAt(file)).toBe(1);

    const order: string[] = [];
    const second = await importer().run({
      file,
      batchSize: 16,
      recount: true,
      onMatch: (m) => order.push(`match ${m.warnings.length}`),
      onProgress: (p) => order.push(`progress ${p.written}`),
    });
    expect(second).toMatchObject({ match: 'new', resumedFromLine: 0, written: 60 });
    expect(second.warnings).toEqual([
      expect.stringMatching(
        /imported before \(50 lines\) with other content.*rewritten or truncated.*counted again/,
      ),
    ]);
    // The warning came before the first write.
    expect(order.slice(0, 2)).toEqual(['match 1', 'progress 0']);
    // What the warning says: the lines both had are counted again.
    expect(await accountsOf('rw')).toEqual(expectedAccounts(original, rewritten));

    const truncated = rewritten.slice(0, 20);
    writeFileSync(file, `${truncated.join('\n')}\n`);
    await expect(importer().run({ file, batchSize: 16 })).rejects.toThrow(/rewritten or truncated/);
    const third = await importer().run({ file, batchSize: 16, recount: true });
    expect(third).toMatchObject({ match: 'new', written: 20 });
    expect(third.warnings).toEqual([expect.stringMatching(/rewritten or truncated/)]);
    expect(await accountsOf('rw')).toEqual(expectedAccounts(original, rewritten, truncated));
  });

  it('a rotated log (the path now holds unrelated content) is a new import with a calm note', async () => {
    const file = path.join(dir, 'rotated.jsonl');
    const before = eventLines('rot', 30);
    writeFileSync(file, `${before.join('\n')}\n`);
    await importer().run({ file, batchSize: 16 });
    // Rotated: the path now holds the next events, none of the earlier ones.
    const after = eventLines('rot', 50).slice(30);
    writeFileSync(file, `${after.join('\n')}\n`);
    const rotated = await importer().run({ file, batchSize: 16 });
    expect(rotated).toMatchObject({ match: 'new', written: 20, thisRun: { written: 20 } });
    expect(rotated.warnings).toEqual([
      `${file} is a different file than the one imported at this path before (30 lines; a rotated log, say): a new import`,
    ]);
    expect(await accountsOf('rot')).toEqual(expectedAccounts(before, after));
  });

  it("a rotated log's new import keeps the earlier import's reject entries beside its own", async () => {
    // Found by review on 12-04: a new import at the path cut the reject file to nothing.
    const file = path.join(dir, 'rotated-rejects.jsonl');
    writeFileSync(file, `${eventLines('rrj', 30, [5, 12]).join('\n')}\n`);
    const first = await importer().run({ file, batchSize: 16 });
    expect(first).toMatchObject({ written: 28, rejected: 2 });
    const entries = (f: string) => rejectEntries(f).map((r) => r.line);
    expect(entries(first.rejectFile)).toEqual([5, 12]);
    writeFileSync(file, `${eventLines('rrj', 50, [40]).slice(30).join('\n')}\n`);
    const rotated = await importer().run({ file, batchSize: 16 });
    expect(rotated).toMatchObject({ match: 'new', written: 19, rejected: 1 });
    expect(entries(rotated.rejectFile)).toEqual([10]);
    const note = rotated.warnings.find((w) => w.includes('reject entries'));
    const aside = /now in (.+)$/.exec(note ?? '')?.[1] as string;
    expect(aside).toMatch(/rotated-rejects\.jsonl\.rejects\.before-.+\.jsonl$/);
    expect(entries(aside)).toEqual([5, 12]);
    // resumed or run again, the same import keeps its own entries where they are
    const again = await importer().run({ file, batchSize: 16 });
    expect(again.warnings.some((w) => w.includes('reject entries'))).toBe(false);
    expect(entries(again.rejectFile)).toEqual([10]);
  });

  it("a new import's own reject entries, left by a run stopped before its first commit, are judged again, not set aside", async () => {
    // Each entry names its import (the file's content key); a run stopped before it
    // committed anything leaves no record of the import, so the next run is new again.
    const file = path.join(dir, 'stopped-early.jsonl');
    const content = `${eventLines('sre', 40, [3]).join('\n')}\n`;
    writeFileSync(file, content);
    const key = `sha256:${createHash('sha256').update(content).digest('hex')}`;
    // the reject file is a symlink (--rejects to a link): it stays one, its target written
    const target = path.join(dir, 'stopped-early-target.jsonl');
    const rejectFile = path.join(dir, 'stopped-early-link.jsonl');
    writeFileSync(target, `${JSON.stringify({ line: 3, reason: 'invalid JSON', import: key })}\n`);
    symlinkSync(target, rejectFile);
    const run = await importer().run({ file, batchSize: 16, rejectFile });
    expect(run).toMatchObject({ match: 'new', written: 39, rejected: 1 });
    expect(run.warnings.some((w) => w.includes('reject entries'))).toBe(false);
    expect(rejectEntries(target)).toEqual([expect.objectContaining({ line: 3, import: key })]);
    // another file's import at that path: the entries are copied aside, the link kept
    writeFileSync(file, `${eventLines('sre', 60, [50]).slice(40).join('\n')}\n`);
    const next = await importer().run({ file, batchSize: 16, rejectFile });
    const note = next.warnings.find((w) => w.includes('reject entries')) ?? '';
    expect(note).toMatch(/stopped-early-link\.before-.+\.jsonl$/);
    expect(lstatSync(rejectFile).isSymbolicLink()).toBe(true);
    expect(rejectEntries(target).map((r) => r.line)).toEqual([10]);
  });

  it('a change past the first MiB is seen: the file is not the earlier one plus lines', async () => {
    const file = path.join(dir, 'big.jsonl');
    const lines = eventLines('big', 14_000); // about 1.2 MiB
    writeFileSync(file, `${lines.join('\n')}\n`);
    expect(statSync(file).size).toBeGreaterThan(2 ** 20 + 100_000);
    await importer().run({ file, batchSize: 5000 });
    // The first MiB as it was, one IP changed past it (same length); then lines appended.
    const changed = [...lines];
    changed[13_500] = (changed[13_500] as string).replace('"ip":"10.0.', '"ip":"10.9.');
    expect(changed[13_500]).not.toBe(lines[13_500]);
    const appended = eventLines('big', 14_010).slice(14_000);
    writeFileSync(file, `${[...changed, ...appended].join('\n')}\n`);
    await expect(importer().run({ file, batchSize: 5000 })).rejects.toThrow(ImportRefused);
    const second = await importer().run({ file, batchSize: 5000, recount: true });
    expect(second).toMatchObject({ match: 'new', written: 14_010 });
    expect(second.warnings).toEqual([expect.stringMatching(/rewritten or truncated/)]);
    expect(await requestsFor('big')).toBe(28_010);
  });

  it('a last line without a line break is left for the next run, which continues the import', async () => {
    const file = path.join(dir, 'unbroken.jsonl');
    const lines = eventLines('nolf', 40);
    writeFileSync(file, lines.slice(0, 30).join('\n'));
    const first = await importer().run({ file, batchSize: 16 });
    // Line 30 may be one still being written: not read.
    expect(first).toMatchObject({
      lines: 29,
      written: 29,
      pendingBytes: Buffer.byteLength(lines[29] as string),
    });
    // As `echo "$line" >> file` does: the first appended line runs on from the last one.
    appendFileSync(file, `${lines.slice(30).join('\n')}\n`);
    const second = await importer().run({ file, batchSize: 16 });
    expect(second).toMatchObject({
      match: 'appended',
      resumedFromLine: 29,
      rejected: 1,
      pendingBytes: 0,
      warnings: [],
    });
    // Lines 1-29 once, the run-on line 30 rejected, 31-40 once.
    expect(await accountsOf('nolf')).toEqual(expectedAccounts(lines.slice(0, 29), lines.slice(31)));

    // Appended bytes that begin with a line break finish that last line: continued.
    const broken = path.join(dir, 'unbroken-then-break.jsonl');
    const others = eventLines('nolf2', 40);
    writeFileSync(broken, others.slice(0, 30).join('\n'));
    await importer().run({ file: broken, batchSize: 16 });
    appendFileSync(broken, `\n${others.slice(30).join('\n')}\n`);
    const continued = await importer().run({ file: broken, batchSize: 16 });
    expect(continued).toMatchObject({ match: 'appended', thisRun: { written: 11 }, warnings: [] });
    expect(await accountsOf('nolf2')).toEqual(expectedAccounts(others));
  });

  it('a live log whose last line is half-written is continued once that line is finished', async () => {
    const file = path.join(dir, 'live.jsonl');
    const lines = eventLines('live', 60);
    const text = `${lines.join('\n')}\n`;
    // The producer flushed by block: the file ends inside line 41.
    const cut = text.indexOf(lines[40] as string) + 25;
    writeFileSync(file, text.slice(0, cut));
    const first = await importer().run({ file, batchSize: 16 });
    expect(first).toMatchObject({ lines: 40, written: 40, rejected: 0, pendingBytes: 25 });
    expect(await accountsOf('live')).toEqual(expectedAccounts(lines.slice(0, 40)));
    // Run again before the line is finished: nothing new, the same bytes left.
    const early = await importer().run({ file, batchSize: 16 });
    expect(early).toMatchObject({ match: 'same', thisRun: { written: 0 }, pendingBytes: 25 });

    appendFileSync(file, text.slice(cut));
    const second = await importer().run({ file, batchSize: 16 });
    expect(second).toMatchObject({
      match: 'appended',
      resumedFromLine: 40,
      written: 60,
      rejected: 0,
      pendingBytes: 0,
      thisRun: { written: 20 },
      warnings: [],
    });
    expect(await accountsOf('live')).toEqual(expectedAccounts(lines));
  });

  it('says so in the CLI when a last line is left for the next run', async () => {
    const file = path.join(dir, 'cli-live.jsonl');
    writeFileSync(file, `${eventLines('clilive', 5).join('\n')}\n{"type": "requ`);
    const res = await runCli(['import', file]);
    expect(res.code).toBe(0);
    expect(res.stderr).toContain(
      `coterie: the last 14 bytes of ${file} end no line (one still being written?): left for the next run`,
    );
    expect(await requestsFor('clilive')).toBe(5);
  });

  it('says so in the CLI when a file ends its lines with CR alone (none is read)', async () => {
    // Found by review on 12-03: it said the last bytes end no line (one still being
    // written?), of a whole file.
    const file = path.join(dir, 'cr-only.jsonl');
    writeFileSync(file, `${eventLines('cronly', 3).join('\r')}\r`);
    const res = await runCli(['import', file]);
    expect(res.code).toBe(0);
    expect(res.stderr).toContain(
      `coterie: the last ${statSync(file).size} bytes of ${file} have no line feed (LF) but lines ended by a carriage return (CR) alone: a file is read only through its last LF, so they were not imported; convert its line ends (tr '\\r' '\\n' < FILE > FILE.lf) and import that`,
    );
    expect(res.stderr).not.toContain('still being written');
    expect(await requestsFor('cronly')).toBe(0);
  });

  it('a gzipped file with a gzip member appended continues its import', async () => {
    const file = path.join(dir, 'appended.jsonl.gz');
    const lines = eventLines('gzapp', 120);
    writeFileSync(file, gzipSync(`${lines.slice(0, 90).join('\n')}\n`));
    await importer().run({ file, batchSize: 32 });
    appendFileSync(file, gzipSync(`${lines.slice(90).join('\n')}\n`));
    const second = await importer().run({ file, batchSize: 32 });
    expect(second).toMatchObject({ match: 'appended', resumedFromLine: 90, written: 120 });
    expect(await accountsOf('gzapp')).toEqual(expectedAccounts(lines));
  });

  it('an unfinished import continued by a longer file is not resumed on its own', async () => {
    const file = path.join(dir, 'taken-over.jsonl');
    const lines = eventLines('taken', 700);
    writeFileSync(file, `${lines.slice(0, 600).join('\n')}\n`);
    const abort = new AbortController();
    await importer().run({
      file,
      batchSize: 100,
      signal: abort.signal,
      onProgress: (p) => {
        if (p.written >= 200) abort.abort();
      },
    });
    const longer = path.join(dir, 'taken-over-longer.jsonl');
    writeFileSync(longer, `${lines.join('\n')}\n`);
    const continued = await importer().run({ file: longer, batchSize: 100 });
    expect(continued).toMatchObject({ match: 'appended', matchedFile: file, written: 700 });
    const again = await importer().run({ file, batchSize: 100 });
    expect(again).toMatchObject({ match: 'continued', thisRun: { written: 0 } });
    // The longer file finished: every line of this one is in, as the message says.
    expect(again.warnings).toEqual([
      expect.stringMatching(
        /continued by a longer file, .*taken-over-longer.jsonl, whose import is complete: every line of this file is in/,
      ),
    ]);
    expect(await accountsOf('taken')).toEqual(expectedAccounts(lines));
    // every line is in: --recount counts nothing again
    expect(await importer().run({ file, batchSize: 100, recount: true })).toMatchObject({
      match: 'continued',
      thisRun: { written: 0 },
    });
    expect(await accountsOf('taken')).toEqual(expectedAccounts(lines));

    // A finished import continued by one longer file still is a base for another.
    const base = path.join(dir, 'finished-base.jsonl');
    const all = eventLines('branch', 60);
    writeFileSync(base, `${all.slice(0, 40).join('\n')}\n`);
    await importer().run({ file: base, batchSize: 16 });
    const one = path.join(dir, 'finished-base-one.jsonl');
    writeFileSync(one, `${all.slice(0, 50).join('\n')}\n`);
    expect((await importer().run({ file: one, batchSize: 16 })).match).toBe('appended');
    const other = path.join(dir, 'finished-base-other.jsonl');
    const otherTail = eventLines('branch', 70).slice(60);
    writeFileSync(other, `${[...all.slice(0, 40), ...otherTail].join('\n')}\n`);
    const branched = await importer().run({ file: other, batchSize: 16 });
    expect(branched).toMatchObject({
      match: 'appended',
      matchedFile: base,
      thisRun: { written: 10 },
    });
    expect(await accountsOf('branch')).toEqual(expectedAccounts(all.slice(0, 50), otherTail));
  });

  it('with --recount, nothing is counted again when the longer import finishes while the file is hashed', async () => {
    // Review, 12-05: the restart was decided from the state read before hashing; the
    // longer import finishing meanwhile still had every line of this file counted again.
    const file = path.join(dir, 'recount-race.jsonl');
    const lines = eventLines('recrace', 300);
    writeFileSync(file, `${lines.slice(0, 250).join('\n')}\n`);
    await importUntilWritten(file, 100);
    const longer = path.join(dir, 'recount-race-longer.jsonl');
    writeFileSync(longer, `${lines.join('\n')}\n`);
    expect(await importUntilWritten(longer, 150)).toMatchObject({ interrupted: true });
    const before = await requestsFor('recrace');
    // The longer import's last commit, sent as this file is hashed: committed before this
    // import's next write (its locks), so after the state it matched was read.
    let finished: Promise<unknown> | undefined;
    const db = new (class extends Database {
      override async write<T>(work: (tx: ManagedTransaction) => Promise<T>): Promise<T> {
        await finished;
        return super.write(work);
      }
    })(neo4j.driver);
    const run = new Importer(db, cypher, new EventWriter(db, cypher)).run({
      file,
      batchSize: 100,
      recount: true,
      onHashing: () => {
        finished ??= neo4j.driver.executeQuery(
          `MATCH (c:ImportCheckpoint {file: $file})
           MATCH (l:ImportCheckpoint {key: c.continuedBy}) SET l.complete = true`,
          { file },
        );
      },
    });
    await expect(run).rejects.toThrow(/finished while it was being identified/);
    expect(finished).toBeDefined();
    expect(await requestsFor('recrace')).toBe(before);
  });

  it('with --recount, the bytes of an unfinished import a longer unfinished one took over are imported anew', async () => {
    // Found by review on 12-03: README said --recount imports the file again whole; it
    // wrote nothing and exited 0, and the rest of the file could not be imported at all.
    const file = path.join(dir, 'recount-continued.jsonl');
    const lines = eventLines('recont', 700);
    writeFileSync(file, `${lines.slice(0, 600).join('\n')}\n`);
    await importUntilWritten(file, 200);
    const longer = path.join(dir, 'recount-continued-longer.jsonl');
    writeFileSync(longer, `${lines.join('\n')}\n`);
    const stopped = await importUntilWritten(longer, 400);
    expect(stopped).toMatchObject({ match: 'appended', interrupted: true });
    rmSync(longer); // the longer file is gone before its import finished
    const before = await requestsFor('recont');
    expect(before).toBeLessThan(600);
    const kept = await importer().run({ file, batchSize: 100 });
    expect(kept).toMatchObject({ match: 'continued', thisRun: { written: 0 } });

    const res = await runCli(['import', file, '--recount', '--batch-size', '100']);
    expect(res.code).toBe(0);
    expect(res.stderr).toMatch(
      /coterie: warning: .*recount-continued.jsonl holds the bytes of an import that stopped at line \d+ and was then continued by a longer file, .*recount-continued-longer.jsonl, whose import is not finished: this is a new import, and events without an id .* are counted again/,
    );
    const summary = JSON.parse(res.stdout.trim().split('\n').pop() as string);
    expect(summary).toMatchObject({
      match: 'new',
      resumedFromLine: 0,
      written: 600,
      thisRun: { written: 600 },
      interrupted: false,
    });
    // every line of the file once more: recounted, as --recount says
    expect(await requestsFor('recont')).toBe(before + 600);
    // its own checkpoint now: finished, the same bytes add nothing
    expect(await importer().run({ file, batchSize: 100 })).toMatchObject({
      match: 'same',
      written: 600,
      thisRun: { written: 0 },
    });
    expect(await requestsFor('recont')).toBe(before + 600);
  });

  it('a file the first load recorded adds nothing, and continues with lines appended', async () => {
    // What first-load.ts records once its store is built (none of the events are written here).
    const file = path.join(dir, 'first-loaded.jsonl');
    const lines = eventLines('fl', 80, [3]);
    writeFileSync(file, `${lines.slice(0, 60).join('\n')}\n`);
    const { size } = statSync(file);
    const { identity } = await identify(file, size, await readHead(file), []);
    await db.write((tx) =>
      recordImported(
        tx,
        cypher,
        identity,
        { lines: 60, written: 59, duplicates: 0, rejected: 1 },
        true,
      ),
    );
    const again = await importer().run({ file, batchSize: 16 });
    expect(again).toMatchObject({
      match: 'same',
      resumedFromLine: 60,
      written: 59,
      thisRun: { written: 0 },
    });
    expect(await accountsOf('fl')).toEqual({});
    const copy = path.join(dir, 'first-loaded-copy.jsonl');
    copyFileSync(file, copy);
    const fromCopy = await importer().run({ file: copy, batchSize: 16 });
    expect(fromCopy).toMatchObject({ match: 'same', matchedFile: file, thisRun: { written: 0 } });
    appendFileSync(file, `${lines.slice(60).join('\n')}\n`);
    const appended = await importer().run({ file, batchSize: 16 });
    expect(appended).toMatchObject({ match: 'appended', written: 79, thisRun: { written: 20 } });
    expect(await accountsOf('fl')).toEqual(expectedAccounts(lines.slice(60)));
  });

  it('honours a checkpoint from before content keys for its file, and warns of one it cannot check', async () => {
    const file = path.join(dir, 'legacy.jsonl');
    const lines = eventLines('legacy', 30);
    writeFileSync(file, `${lines.join('\n')}\n`);
    // As the importer left it before: keyed by path, size and first MiB; no size or head.
    await neo4j.driver.executeQuery(
      `CREATE (:ImportCheckpoint {key: $key, file: $file, line: 30, events: 30, duplicates: 0,
                                  rejected: 0, updatedAt: 1})`,
      { key: await legacyFileKey(file, statSync(file).size), file },
    );
    const finished = await importer().run({ file, batchSize: 16 });
    expect(finished).toMatchObject({ match: 'legacy', written: 30, thisRun: { written: 0 } });
    expect(await accountsOf('legacy')).toEqual({});
    // Now keyed by content: run again, it is the same import.
    expect((await importer().run({ file, batchSize: 16 })).match).toBe('same');

    const changed = path.join(dir, 'legacy-changed.jsonl');
    writeFileSync(changed, `${eventLines('legacy2', 30).join('\n')}\n`);
    await neo4j.driver.executeQuery(
      `CREATE (:ImportCheckpoint {key: 'an-old-key', file: $file, line: 20, events: 20,
                                  duplicates: 0, rejected: 0, updatedAt: 1})`,
      { file: changed },
    );
    const anew = await importer().run({ file: changed, batchSize: 16 });
    expect(anew).toMatchObject({ match: 'new', written: 30 });
    expect(anew.warnings).toEqual([expect.stringMatching(/earlier version of coterie/)]);
  });

  it('stopped while the file is hashed, writes nothing', async () => {
    const file = path.join(dir, 'stopped-hashing.jsonl');
    writeFileSync(file, `${eventLines('hashstop', 50).join('\n')}\n`);
    const abort = new AbortController();
    abort.abort();
    const summary = await importer().run({ file, batchSize: 16, signal: abort.signal });
    expect(summary).toMatchObject({ interrupted: true, written: 0, lines: 0, warnings: [] });
    expect(summary.key).toBeUndefined();
    expect(await accountsOf('hashstop')).toEqual({});
    const checkpoints = await neo4j.driver.executeQuery(
      'MATCH (c:ImportCheckpoint {file: $file}) RETURN count(c) AS n',
      { file },
    );
    expect(Number(checkpoints.records[0]?.get('n'))).toBe(0);
  });

  it('says on stderr what the CLI continued, and warns of what it counts again', async () => {
    const file = path.join(dir, 'cli-appended.jsonl');
    const lines = eventLines('cliapp', 30);
    writeFileSync(file, `${lines.slice(0, 20).join('\n')}\n`);
    await importer().run({ file, batchSize: 16 });
    appendFileSync(file, `${lines.slice(20).join('\n')}\n`);
    const appended = await runCli(['import', file]);
    expect(appended.code).toBe(0);
    expect(appended.stderr).toContain(
      `coterie: ${file} is ${file} with lines appended: continued that import after line 20`,
    );
    writeFileSync(file, `${lines.slice(0, 5).join('\n')}\n`);
    const refused = await runCli(['import', file]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      `coterie: refused: ${file} was imported before (30 lines) with other content`,
    );
    expect(refused.stderr).toContain(
      `count again the events without an id imported from ${file} before. Nothing was written; to import it anyway, pass --recount`,
    );
    expect(refused.stdout).toBe('');
    expect(await requestsFor('cliapp')).toBe(30);
    const truncated = await runCli(['import', file, '--recount']);
    expect(truncated.code).toBe(0);
    expect(truncated.stderr).toMatch(
      /coterie: warning: .*cli-appended.jsonl was imported before \(30 lines\) with other content/,
    );
    expect(await requestsFor('cliapp')).toBe(35);
  });

  it('the CLI exits 3 for a file whose bytes an unfinished longer import took over, 0 once it is finished', async () => {
    // Review, 12-04: it exited 0, and a script took the file for imported.
    const { file, longer, lines } = await stoppedWithLonger('cli-continued', 'clicont');
    expect(await importUntilWritten(longer, 400)).toMatchObject({
      match: 'appended',
      interrupted: true,
    });
    const unfinished = await runCli(['import', file]);
    expect(unfinished.code).toBe(3);
    expect(JSON.parse(unfinished.stdout)).toMatchObject({
      match: 'continued',
      continuedByComplete: false,
      thisRun: { written: 0 },
    });
    expect(unfinished.stderr).toContain('whose import is not finished');
    expect((await importer().run({ file: longer, batchSize: 100 })).interrupted).toBe(false);
    const finished = await runCli(['import', file]);
    expect(finished.code).toBe(0);
    expect(JSON.parse(finished.stdout)).toMatchObject({ continuedByComplete: true });
    expect(await accountsOf('clicont')).toEqual(expectedAccounts(lines));
  });

  it('with --recount, the CLI warns before it writes anything', async () => {
    const file = path.join(dir, 'cli-recount.jsonl');
    const lines = eventLines('clirec', 100);
    writeFileSync(file, `${lines.slice(0, 100).join('\n')}\n`);
    await importer().run({ file, batchSize: 64 });
    // Rewritten from line 51: overlaps the earlier content, cannot continue it.
    writeFileSync(
      file,
      `${[...lines.slice(0, 50), ...eventLines('clirec2', 40_000)].join('\n')}\n`,
    );
    // The first window (one part: every clirec line in one transaction) cannot commit
    // while the test holds a write on clirec-0: the graph is read with the import held
    // there, after the warning. Had it written first, the warning would never come.
    const locker = neo4j.driver.session();
    const lock = locker.beginTransaction();
    await lock.run("MATCH (a:Account {id: 'clirec-0'}) SET a.lockProbe = true");
    let warned!: () => void;
    const warning = new Promise<void>((r) => (warned = r));
    const running = runCli(['import', file, '--recount', '--batch-size', '20000'], (child) => {
      let seen = '';
      child.stderr?.on('data', (d) => {
        seen += d;
        if (seen.includes('counted again')) warned();
      });
    });
    let atWarning: number;
    try {
      await Promise.race([
        warning,
        running.then((r) => Promise.reject(new Error(`no warning: ${r.stderr}`))),
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error('no warning in 60 s')), 60_000).unref(),
        ),
      ]);
      await waitForBlocked(neo4j.driver, 1, 'the import held at clirec-0');
      atWarning = await requestsFor('clirec');
    } finally {
      await lock.rollback();
      await locker.close();
    }
    const res = await running;
    expect(res.code).toBe(0);
    expect(atWarning).toBe(100);
    expect(await requestsFor('clirec')).toBe(150);
  });
});

/** The CLI as `npm run coterie` runs it, against the test's Neo4j. */
const CLI = path.join(__dirname, '../../src/cli/main.ts');

/** The CLI's environment: the test Neo4j, warnings only. */
const cliEnv = () =>
  childEnv({ NEO4J_URI: neo4j.uri, NEO4J_PASSWORD: neo4j.password, LOG_LEVEL: 'warn' });

/**
 * `<name>.jsonl`, the first 600 of 700 event lines of `prefix`, imported until 200 are
 * written; `<name>-longer.jsonl`, all 700 (its bytes begin with the other's).
 */
async function stoppedWithLonger(name: string, prefix: string) {
  const file = path.join(dir, `${name}.jsonl`);
  const lines = eventLines(prefix, 700);
  writeFileSync(file, `${lines.slice(0, 600).join('\n')}\n`);
  await importUntilWritten(file, 200);
  const longer = path.join(dir, `${name}-longer.jsonl`);
  writeFileSync(longer, `${lines.join('\n')}\n`);
  return { file, longer, lines };
}

function runCli(args: string[], onStart?: (child: ReturnType<typeof spawn>) => void) {
  const env = cliEnv();
  return new Promise<{
    code: number | null;
    signal: string | null;
    stdout: string;
    stderr: string;
  }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    onStart?.(child);
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe('EventWriter', () => {
  it('rolls the whole batch back when a statement after the first fails (statements are pipelined)', async () => {
    // The last statement (capabilities) divides by zero, after accounts, links and
    // models were already sent and run in the same transaction.
    const failing = new Map(cypher);
    failing.set(
      'ingest/merge-capabilities',
      'UNWIND $rows AS r RETURN 1 / (toInteger(r[2]) - toInteger(r[2]))',
    );
    const writer = new EventWriter(db, failing);
    const at = Date.UTC(2026, 1, 2);
    const events = [0, 1, 2].map((i) => ({
      id: `pipe-${i}`,
      type: 'request' as const,
      accountId: `pipe-${i}`,
      at: at + i,
      ip: '10.77.0.1',
      model: 'model-pipe',
      capability: 'reasoning',
    }));
    await expect(writer.write(events)).rejects.toThrow(/by zero/);
    const left = await neo4j.driver.executeQuery(
      `OPTIONAL MATCH (a:Account) WHERE a.id STARTS WITH 'pipe-'
       WITH count(a) AS accounts
       OPTIONAL MATCH (e:IngestedEvent) WHERE e.id STARTS WITH 'pipe-'
       WITH accounts, count(e) AS ids
       OPTIONAL MATCH (ip:IP {address: '10.77.0.1'})
       WITH accounts, ids, count(ip) AS ips
       OPTIONAL MATCH (m:Model {name: 'model-pipe'})
       RETURN accounts, ids, ips, count(m) AS models`,
    );
    const counts = left.records[0]?.toObject() ?? {};
    expect(Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, Number(v)]))).toEqual({
      accounts: 0,
      ids: 0,
      ips: 0,
      models: 0,
    });
    // The same events with the real statements go in whole.
    await expect(new EventWriter(db, cypher).write(events)).resolves.toEqual({
      received: 3,
      written: 3,
      duplicates: 0,
    });
    expect(await requestsFor('pipe')).toBe(3);
  });

  it('merges a value whose rows span two statements once, with first/last seen over all its rows', async () => {
    // 20,001 accounts, three per IP: sorted by IP, the rows of the last IP but one
    // straddle the 20,000-row statement boundary, and only the first IP statement
    // carries the batch's subnets.
    const at = Date.UTC(2026, 1, 3);
    const ipOf = (i: number) => {
      const n = Math.floor(i / 3);
      return `10.78.${Math.floor(n / 256)}.${n % 256}`;
    };
    const events = Array.from({ length: 20_001 }, (_, i) => ({
      type: 'request' as const,
      accountId: `span-${String(i).padStart(5, '0')}`,
      at: at + i,
      ip: ipOf(i),
    }));
    await expect(new EventWriter(db, cypher).write(events)).resolves.toMatchObject({
      written: 20_001,
    });
    const res = await neo4j.driver.executeQuery(
      `MATCH (ip:IP) WHERE ip.address STARTS WITH '10.78.'
       RETURN count(ip) AS ips,
              sum(COUNT { (ip)<-[:CONNECTED_FROM]-() }) AS links,
              min(COUNT { (ip)-[:IN_SUBNET]->() }) AS minSubnetLinks,
              max(COUNT { (ip)-[:IN_SUBNET]->() }) AS maxSubnetLinks,
              collect(CASE WHEN ip.address = $straddling THEN [ip.firstSeen, ip.lastSeen] END)[0] AS seen,
              COLLECT { MATCH (s:Subnet) WHERE s.cidr STARTS WITH '10.78.' RETURN DISTINCT s.version } AS versions`,
      { straddling: ipOf(19_999) },
    );
    const row = res.records[0]?.toObject() ?? {};
    expect(Number(row.ips)).toBe(6_667);
    expect(Number(row.links)).toBe(20_001);
    expect([Number(row.minSubnetLinks), Number(row.maxSubnetLinks)]).toEqual([1, 1]);
    // Its three rows are accounts 19,998..20,000, the first before the boundary.
    expect((row.seen as number[]).map(Number)).toEqual([at + 19_998, at + 20_000]);
    // Each subnet was merged by one statement of this one batch.
    expect((row.versions as number[]).map(Number)).toEqual([1]);
  });

  it('two writers at once on one account keep every hour of its series (the account is locked before it is read)', async () => {
    // As two service replicas, or an import beside REST: each batch is one hour's
    // requests of an account that already exists.
    const hourMs = 3_600_000;
    const t0 = Date.UTC(2026, 1, 10);
    const batch = (h: number) =>
      Array.from({ length: 25 }, (_, i) => ({
        type: 'request' as const,
        accountId: 'race-a',
        at: t0 + h * hourMs + i * 1000,
        ip: '10.89.0.1',
      }));
    await new EventWriter(db, cypher).write(batch(0));
    const writeHours = async (hours: number[]) => {
      const writer = new EventWriter(db, cypher);
      for (const h of hours) await writer.write(batch(h));
    };
    const hours = Array.from({ length: 40 }, (_, i) => i + 1);
    await Promise.all([
      writeHours(hours.filter((h) => h % 2 === 0)),
      writeHours(hours.filter((h) => h % 2 === 1)),
    ]);
    const res = await neo4j.driver.executeQuery(
      `MATCH (a:Account {id: 'race-a'})
       RETURN a.requests AS requests, size(a.hourKeys) AS hours,
              reduce(s = 0, c IN a.hourCounts | s + c) AS inSeries`,
    );
    const row = res.records[0]?.toObject() ?? {};
    expect([Number(row.requests), Number(row.hours), Number(row.inSeries)]).toEqual([
      41 * 25,
      41,
      41 * 25,
    ]);
  });

  it('stores every field of every row kind in its place (rows travel as positional lists)', async () => {
    // Six events of one account with distinct times, so that any two fields of a row
    // swapped by the writer's encoders or a statement's WITH change a stored value.
    const t0 = Date.UTC(2026, 1, 4, 10);
    const t1 = t0 - 1_800_000; // a payment half an hour before the sign-up
    const t2 = t0; // sign-up
    const [t3, t4, t5] = [t0 + 3_601_000, t0 + 3_602_000, t0 + 10_802_000]; // requests
    const t6 = t0 + 18_000_000; // a last payment
    const hour = (t: number) => Math.floor(t / 3_600_000);
    const me = { accountId: 'fields-a', ip: '10.88.0.1' };
    const req = { ...me, type: 'request' as const, promptFingerprint: '00000000000f1e1d' };
    const work = { model: 'model-fields', capability: 'fields-cap' };
    const events = [
      { ...me, type: 'payment' as const, at: t1, paymentMethod: 'pm-fields' },
      {
        ...me,
        type: 'signup' as const,
        at: t2,
        emailDomain: 'fields.example',
        org: 'org-f',
        device: 'dev-f',
      },
      { ...req, ...work, at: t3, device: 'dev-f', org: 'org-f' },
      { ...req, ...work, at: t4 },
      { ...req, ...work, at: t5, paymentMethod: 'pm-fields' },
      {
        ...me,
        type: 'payment' as const,
        at: t6,
        paymentMethod: 'pm-fields',
        emailDomain: 'fields.example',
      },
    ];
    await new EventWriter(db, cypher).write(events);
    const res = await neo4j.driver.executeQuery(
      `MATCH (a:Account {id: 'fields-a'})
       RETURN [a.firstSeen, a.lastSeen, a.signupAt, a.requests, a.emailDomain, a.org] AS account,
              [a.hourKeys, a.hourCounts] AS series,
              COLLECT { MATCH (a)-[l]->(x)
                        RETURN [type(l), l.count, coalesce(l.firstSeen, l.firstUse),
                                coalesce(l.lastSeen, l.lastUse), l.hourKeys, l.hourCounts,
                                x.firstSeen, x.lastSeen, x.subnet,
                                [(x)-[:IN_SUBNET]->(s) | s.cidr]] AS link
                        ORDER BY link[0] } AS links`,
    );
    // Integers come back as the driver's Integer; strings, nulls and lists pass through.
    const plain = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(plain) : typeof v === 'object' && v !== null ? Number(v) : v;
    const row = plain(Object.values(res.records[0]?.toObject() ?? {})) as unknown[];
    expect(row[0]).toEqual([t1, t6, t2, 3, 'fields.example', 'org-f']);
    expect(row[1]).toEqual([
      [hour(t3), hour(t5)],
      [2, 1],
    ]);
    const none = [null, null, null, null, null, null, null, []];
    expect(row[2]).toEqual([
      ['CONNECTED_FROM', 6, t1, t6, null, null, t1, t6, '10.88.0.0/24', ['10.88.0.0/24']],
      ['HAS_EMAIL_DOMAIN', 2, t2, t6, null, null, t2, t6, null, []],
      ['IN_ORG', 2, t2, t3, null, null, t2, t3, null, []],
      ['PAID_WITH', 3, t1, t6, null, null, t1, t6, null, []],
      ['REQUESTED', 3, ...none],
      ['SENT', 3, t3, t5, null, null, t3, t5, null, []],
      ['USED_DEVICE', 2, t2, t3, null, null, t2, t3, null, []],
      ['USED_MODEL', 3, t3, t5, [hour(t3), hour(t5)], [2, 1], null, null, null, []],
    ]);
  });
});
