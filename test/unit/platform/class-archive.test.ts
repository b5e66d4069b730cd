/**
 * The launcher's class archive when a dumper outlives the marker's stale age (a service's
 * Neo4j runs for days): a second dumper takes the marker over. Each must dump to a file of
 * its own, and the first, exiting, must not free the second's marker (review, 12-05).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Jdk } from '../../../src/platform/jdk';
import { classArchive as archiveFor } from '../../../src/platform/neo4j-local';

const jdk: Jdk = { stamp: 's1', baseArchive: true };
const classArchive = (kind: string, p: { target: string; jar: string }) => archiveFor(kind, p, jdk);

let dir: string;
let paths: { target: string; jar: string };
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coterie-cds-'));
  paths = { target: dir, jar: path.join(dir, 'neo4j-local.jar') };
  fs.writeFileSync(paths.jar, 'jar');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const dumpFile = (args: string[]) =>
  args.find((a) => a.startsWith('-XX:ArchiveClassesAtExit='))?.split('=')[1];
const ago = (file: string, ms: number) => {
  const t = new Date(Date.now() - ms);
  fs.utimesSync(file, t, t);
};

it('two dumpers of one kind, the second past the stale age: two dump files, and each frees only its own marker', () => {
  const marker = path.join(dir, 'k-s1.jsa.dumping');
  const first = classArchive('k', paths);
  const firstDump = dumpFile(first.args);
  expect(firstDump).toBeDefined();

  // while the first holds a fresh marker, another start does not dump
  expect(dumpFile(classArchive('k', paths).args)).toBeUndefined();

  ago(marker, 11 * 60_000);
  const second = classArchive('k', paths);
  const secondDump = dumpFile(second.args);
  expect(secondDump).toBeDefined();
  expect(secondDump).not.toBe(firstDump);

  // the first exits cleanly: its archive goes into place, the second's marker stays
  fs.writeFileSync(firstDump!, 'first');
  first.exited(0);
  expect(fs.readFileSync(path.join(dir, 'k-s1.jsa'), 'utf8')).toBe('first');
  expect(fs.existsSync(marker)).toBe(true);

  fs.writeFileSync(secondDump!, 'second');
  second.exited(0);
  expect(fs.readFileSync(path.join(dir, 'k-s1.jsa'), 'utf8')).toBe('second');
  expect(fs.existsSync(marker)).toBe(false);
});

it("a failed dump leaves no file; a killed JVM's old dump is removed by the next dumper", () => {
  const killed = path.join(dir, 'k-s1.jsa.0123456789abcdef.tmp');
  fs.writeFileSync(killed, 'half');
  ago(killed, 11 * 60_000);
  const fresh = path.join(dir, 'k-s1.jsa.fedcba9876543210.tmp');
  fs.writeFileSync(fresh, 'being written');

  const dumper = classArchive('k', paths);
  expect(fs.existsSync(killed)).toBe(false);
  expect(fs.existsSync(fresh)).toBe(true);
  const dump = dumpFile(dumper.args)!;
  fs.writeFileSync(dump, 'partial');
  dumper.exited(1);
  expect(fs.existsSync(dump)).toBe(false);
  expect(fs.existsSync(path.join(dir, 'k-s1.jsa'))).toBe(false);
  expect(fs.existsSync(path.join(dir, 'k-s1.jsa.dumping'))).toBe(false);
});

it('an archive newer than the jar is mapped, not dumped again', () => {
  fs.writeFileSync(path.join(dir, 'k-s1.jsa'), 'archive');
  ago(paths.jar, 60_000);
  const { args } = classArchive('k', paths);
  expect(args).toContain(`-XX:SharedArchiveFile=${path.join(dir, 'k-s1.jsa')}`);
  expect(dumpFile(args)).toBeUndefined();
});

it('a dump made for a jar rebuilt since its JVM started is thrown away, not installed', () => {
  // Review, 12-06: installed, it was mapped by every later JVM, which refuses an archive
  // of another jar, so none started with the cache until the next rebuild.
  const dumper = classArchive('k', paths);
  const dump = dumpFile(dumper.args)!;
  fs.rmSync(paths.jar); // a rebuild removes the jar and writes a new one
  fs.writeFileSync(paths.jar, 'new jar');
  fs.writeFileSync(dump, 'archive of the old jar');
  dumper.exited(0);
  expect(fs.existsSync(dump)).toBe(false);
  expect(fs.existsSync(path.join(dir, 'k-s1.jsa'))).toBe(false);
  // the next start dumps one for the new jar
  expect(dumpFile(classArchive('k', paths).args)).toBeDefined();
});

it('a JDK without its base archive gets no archive flags: JDK 17 would refuse to start (review, 12-07)', () => {
  const { args } = archiveFor('k', paths, { stamp: 's1', baseArchive: false });
  expect(args.filter((a) => a.startsWith('-XX:'))).toEqual([]);
  expect(archiveFor('k', paths, null).args.filter((a) => a.startsWith('-XX:'))).toEqual([]);
  expect(fs.readdirSync(dir)).toEqual(['neo4j-local.jar']); // no marker taken either
});

it('each JDK has its own archive: another one dumps instead of mapping this one', () => {
  fs.writeFileSync(path.join(dir, 'k-s1.jsa'), 'archive of s1');
  ago(paths.jar, 60_000);
  expect(classArchive('k', paths).args).toContain(
    `-XX:SharedArchiveFile=${path.join(dir, 'k-s1.jsa')}`,
  );
  const other = archiveFor('k', paths, { stamp: 's2', baseArchive: true });
  expect(dumpFile(other.args)).toMatch(/k-s2\.jsa\.[0-9a-f]{16}\.tmp$/);
});

it("a dump put in place removes the kind's archives of other JDKs, and no other kind's (review, 12-07)", () => {
  for (const f of ['k.jsa', 'k-0123456789ab.jsa', 'k-import-0123456789ab.jsa', 'other.jsa'])
    fs.writeFileSync(path.join(dir, f), 'old');
  const dumper = classArchive('k', paths);
  fs.writeFileSync(dumpFile(dumper.args)!, 'new');
  dumper.exited(0);
  expect(
    fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.jsa'))
      .sort(),
  ).toEqual(['k-import-0123456789ab.jsa', 'k-s1.jsa', 'other.jsa']);
});
