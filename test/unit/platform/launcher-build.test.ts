/**
 * Building the launcher, stopped halfway: Maven (a stand-in `mvn` on PATH that sleeps)
 * must be gone, the build lock freed and no stamp written, so the next start rebuilds.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ensureLauncherBuilt,
  PrerequisiteMissing,
  stopChildProcesses,
} from '../../../src/platform/neo4j-local';

let dir: string;
let pidFile: string;
const savedPath = process.env.PATH;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coterie-launcher-build-'));
  // A stand-in project: findRepoRoot's marker and one "source" for the stamp.
  fs.mkdirSync(path.join(dir, 'neo4j-local', 'src', 'main'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'neo4j-local', 'pom.xml'), '<project/>\n');
  fs.writeFileSync(path.join(dir, 'neo4j-local', 'src', 'main', 'Main.java'), 'class Main {}\n');
  pidFile = path.join(dir, 'mvn.pid');
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  // exec: the pid written is the process the build has to stop.
  fs.writeFileSync(path.join(bin, 'mvn'), `#!/bin/sh\necho "$$" > '${pidFile}'\nexec sleep 60\n`, {
    mode: 0o755,
  });
  process.env.PATH = `${bin}${path.delimiter}${savedPath}`;
});

afterEach(() => {
  process.env.PATH = savedPath;
  fs.rmSync(dir, { recursive: true, force: true });
});

async function mavenPid(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    if (fs.existsSync(pidFile)) {
      const pid = Number.parseInt(fs.readFileSync(pidFile, 'utf8'), 10);
      if (pid > 0) return pid;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('the stand-in mvn never started');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const target = () => path.join(dir, 'neo4j-local', 'target');

describe('ensureLauncherBuilt, stopped while Maven runs', () => {
  it('an abort stops Maven, says so, and frees the lock', async () => {
    const abort = new AbortController();
    const logs: string[] = [];
    const build = ensureLauncherBuilt((m) => logs.push(m), abort.signal, dir);
    build.catch(() => undefined); // asserted below
    const pid = await mavenPid();
    expect(alive(pid)).toBe(true);
    // the holder's line, then Maven's pid: what a waiter reads if this process is killed
    expect(fs.readFileSync(path.join(target(), '.build.lock'), 'utf8')).toMatch(
      new RegExp(`^${process.pid} \\S+\\nmaven ${pid}\\n$`),
    );
    abort.abort();
    await expect(build).rejects.toThrow('neo4j-local: the launcher build was stopped');
    expect(alive(pid)).toBe(false);
    expect(fs.readdirSync(target())).toEqual([]); // no lock, no stamp
    expect(logs).toEqual([
      'neo4j-local: building the launcher with Maven (first run downloads Neo4j)',
    ]);
  });

  it('stopChildProcesses (a signal during start-up) stops Maven and the build fails with it', async () => {
    const build = ensureLauncherBuilt(undefined, undefined, dir);
    build.catch(() => undefined);
    const pid = await mavenPid();
    const started = Date.now();
    await stopChildProcesses(10_000);
    // SIGTERM was enough: sleep dies at once, well inside the grace period.
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(alive(pid)).toBe(false);
    await expect(build).rejects.toThrow(/failed \(SIGTERM\)/);
    expect(fs.readdirSync(target())).toEqual([]);
  });

  it('a Maven that fails is reported with its output, and the next call builds again', async () => {
    fs.writeFileSync(
      path.join(dir, 'bin', 'mvn'),
      `#!/bin/sh\necho "$$" >> '${pidFile}.runs'\necho 'BUILD FAILURE: no network' >&2\nexit 1\n`,
    );
    await expect(ensureLauncherBuilt(undefined, undefined, dir)).rejects.toThrow(
      /failed \(exit 1\)\. Output tail:\nBUILD FAILURE: no network/,
    );
    await expect(ensureLauncherBuilt(undefined, undefined, dir)).rejects.toThrow(/exit 1/);
    expect(fs.readFileSync(`${pidFile}.runs`, 'utf8').trim().split('\n')).toHaveLength(2);
    expect(fs.readdirSync(target())).toEqual([]);
  });

  it('Maven finding no Java is a missing prerequisite too (review, 12-07)', async () => {
    fs.writeFileSync(
      path.join(dir, 'bin', 'mvn'),
      `#!/bin/sh\necho 'The JAVA_HOME environment variable is not defined correctly,' >&2\nexit 1\n`,
    );
    await expect(ensureLauncherBuilt(undefined, undefined, dir)).rejects.toBeInstanceOf(
      PrerequisiteMissing,
    );
  });

  it('no Maven on PATH: a missing prerequisite, said without a stack trace by the service', async () => {
    const empty = path.join(dir, 'empty');
    fs.mkdirSync(empty);
    process.env.PATH = empty;
    const built = ensureLauncherBuilt(undefined, undefined, dir);
    await expect(built).rejects.toBeInstanceOf(PrerequisiteMissing);
    await expect(built).rejects.toThrow(/`mvn` not found on PATH/);
  });
});
