/**
 * The embedded local Neo4j: builds and runs neo4j-local/ (a small Java launcher around
 * Neo4j Community 5.26 LTS) so the service and the integration tests get a real Neo4j with
 * a Bolt port on 127.0.0.1 on machines without Docker (DESIGN.md, "Neo4j: the real thing,
 * with or without Docker").
 *
 * - ensureLauncherBuilt() runs Maven once per change of the launcher sources (sha256 stamp),
 *   serialised across processes with a lock file, so parallel test workers never race it.
 * - startLocalNeo4j() spawns the JVM, waits for its `NEO4J_LOCAL_READY bolt://...` line and
 *   checks Bolt answers. The child shuts down cleanly on SIGTERM (stop()) and also when its
 *   stdin closes, i.e. when this process dies without calling stop().
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import neo4j from 'neo4j-driver';
import { pidAlive, takeOverStale } from './stale-lock';
import { type Jdk, javaBinary, jdkOf } from './jdk';

/** The file in the data folder that names the Bolt URI of the Neo4j running on it. */
export const BOLT_URI_FILE = 'bolt.uri';

/**
 * The password of the Neo4j running on the data folder (mode 0600, removed when it or the
 * process that started it exits),
 * for a second process of the same user: `NEO4J_PASSWORD=$(cat <folder>/bolt.password)`.
 */
export const BOLT_PASSWORD_FILE = 'bolt.password';

/** The embedded Neo4j's one user. */
export const LOCAL_USER = 'neo4j';

/** The Bolt URI of the Neo4j running on `dataDir`, if one said so; null otherwise. */
export function runningBoltUri(dataDir: string): string | null {
  try {
    const uri = fs.readFileSync(path.join(dataDir, BOLT_URI_FILE), 'utf8').trim();
    return /^bolt:\/\/[\w.:[\]-]+$/.test(uri) ? uri : null;
  } catch {
    return null;
  }
}

export interface LocalNeo4jOptions {
  /** Neo4j home for this instance (store, transaction logs, logs/debug.log). */
  dataDir: string;
  /** Bolt port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
  /** JVM heap, e.g. '512m' (default '1g'). */
  heap?: string;
  /** Neo4j page cache, e.g. '128m' (default '512m'). */
  pagecache?: string;
  /** Garbage collector (default 'g1'; see GC_ARGS). */
  collector?: Collector;
  /**
   * How long to wait for the launcher's READY line (default 180 s): Neo4j recovers a
   * store whose process was killed (replays its transaction logs) before it is ready.
   */
  startTimeoutMs?: number;
  /** More JVM options (e.g. the first load's JIT choice). */
  jvmArgs?: readonly string[];
  /**
   * User neo4j's Bolt password (default: a new random one each start). At least 8
   * characters, not beginning with '-' (the admin tool would take it for an option).
   */
  password?: string;
  /**
   * Neo4j loads its plugins from here and the launcher registers no procedures of its own
   * (tests: Coterie's jar as a plugin, as in a Neo4j of one's own).
   */
  pluginDir?: string;
  /**
   * First build a new store with Neo4j's offline bulk importer, in the launcher's JVM
   * before the DBMS starts (the data dir must hold no database yet). Called once the JVM
   * is spawned, so it boots while this writes the CSV files; returns them (undefined:
   * nothing to import, an empty store). Start fails with the tool's output if the import
   * fails, and with this function's error if it throws.
   */
  bulkImport?: () => BulkImport | undefined;
  /** Called when the bulk import is done and the DBMS starts. */
  onImported?: () => void;
  /** Aborted before Neo4j is ready (e.g. during a long bulk import): the launcher's Maven
   * build or the launcher is stopped (a half-written store is the caller's to remove) and
   * the start rejects. */
  signal?: AbortSignal;
  log?: (msg: string) => void;
  /**
   * The launcher's build notices (building it with Maven, waiting for another process's
   * build): the first start may take minutes on them. Default: `log`.
   */
  buildLog?: (msg: string) => void;
}

export interface BulkImport {
  /** `Label=path` per node file and `TYPE=path` per relationship file (headers in the files). */
  nodes: string[];
  relationships: string[];
  /** Some value holds a line break: the tool must parse quoted fields across lines (slower). */
  multiline: boolean;
  /**
   * How `:ID` / `:START_ID` / `:END_ID` columns are read: 'string' (default) ids mapped
   * to nodes by the tool, or 'actual': they are the node ids themselves (the files number
   * every node, from 0, unique across labels; no id property is stored).
   */
  idType?: 'string' | 'actual';
}

export interface LocalNeo4j {
  /** bolt://127.0.0.1:<bound port> */
  uri: string;
  /** Bolt user and password: a new random password each start (see BOLT_PASSWORD_FILE). */
  user: string;
  password: string;
  pid: number;
  /**
   * SIGTERM, wait for a clean exit, SIGKILL after 30 s. Idempotent. Resolves with the
   * launcher's exit (0 after a clean shutdown), or null when none was heard 30 s after
   * SIGKILL.
   */
  stop(): Promise<LocalExit | null>;
  /** Settles when the launcher process has exited, with its exit code or signal. */
  exited: Promise<LocalExit>;
}

export interface LocalExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const READY_PREFIX = 'NEO4J_LOCAL_READY ';
const IMPORTED = 'NEO4J_LOCAL_IMPORTED';
const START_TIMEOUT_MS = 180_000;
const STOP_GRACE_MS = 30_000;
const BUILD_TIMEOUT_MS = 20 * 60_000;
const STALE_LOCK_MS = 10 * 60_000;
const TAIL_CHARS = 4000;

/** Flags Neo4j 5 needs on Java 17 (it reaches into NIO internals for the page cache). */
const JVM_OPENS = [
  '--add-opens=java.base/java.nio=ALL-UNNAMED',
  '--add-opens=java.base/java.io=ALL-UNNAMED',
  '--add-opens=java.base/sun.nio.ch=ALL-UNNAMED',
];

const noop = (): void => {};

/**
 * The repository root: the nearest ancestor of this module holding neo4j-local/pom.xml.
 * Works from src/platform (ts-jest, tsx) and from dist/src/platform (after tsc).
 */
export function findRepoRoot(start: string = __dirname): string {
  let dir = path.resolve(start);
  for (;;) {
    if (fs.existsSync(path.join(dir, 'neo4j-local', 'pom.xml'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new Error(`neo4j-local: cannot find neo4j-local/pom.xml above ${start}`);
    }
    dir = parent;
  }
}

function launcherPaths(root: string = findRepoRoot()) {
  const project = path.join(root, 'neo4j-local');
  const target = path.join(project, 'target');
  return {
    project,
    pom: path.join(project, 'pom.xml'),
    sources: path.join(project, 'src', 'main'),
    target,
    jar: path.join(target, 'neo4j-local.jar'),
    lib: path.join(target, 'lib'),
    stamp: path.join(target, '.build-stamp'),
    lock: path.join(target, '.build.lock'),
  };
}

function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(full));
    else if (entry.isFile()) out.push(full);
  }
  return out.sort();
}

/** sha256 over pom.xml and every file under src/main (paths included, so renames count). */
function sourceStamp(p: ReturnType<typeof launcherPaths>): string {
  const hash = createHash('sha256');
  for (const file of [p.pom, ...listFiles(p.sources)]) {
    hash.update(path.relative(p.project, file).split(path.sep).join('/'));
    hash.update('\0');
    hash.update(fs.readFileSync(file));
    hash.update('\0');
  }
  return hash.digest('hex');
}

function isUpToDate(p: ReturnType<typeof launcherPaths>, stamp: string): boolean {
  try {
    return fs.readFileSync(p.stamp, 'utf8').trim() === stamp && buildIsWhole(p);
  } catch {
    return false;
  }
}

/**
 * The jar and every jar in lib/ end as a zip ends. A build cut short (Ctrl-C, the timeout)
 * leaves a truncated jar that Maven's next run keeps, as it is newer than its inputs.
 */
function buildIsWhole(p: ReturnType<typeof launcherPaths>): boolean {
  if (!fs.existsSync(p.jar) || !fs.existsSync(p.lib)) return false;
  const jars = fs.readdirSync(p.lib).filter((f) => f.endsWith('.jar'));
  return jars.length > 0 && [p.jar, ...jars.map((f) => path.join(p.lib, f))].every(isWholeZip);
}

const ZIP_END = Buffer.from([0x50, 0x4b, 0x05, 0x06]); // end of central directory record

/** Whether `file` ends with a zip's end record (after at most a 64 KiB archive comment). */
export function isWholeZip(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const length = Math.min(size, 22 + 0xffff);
    const tail = Buffer.alloc(length);
    fs.readSync(fd, tail, 0, length, size - length);
    for (let at = tail.lastIndexOf(ZIP_END); at >= 0; at = tail.lastIndexOf(ZIP_END, at - 1)) {
      // the record is whole and its comment runs exactly to the end
      if (at + 22 <= length && at + 22 + tail.readUInt16LE(at + 20) === length) return true;
      if (at === 0) break;
    }
    return false;
  } finally {
    fs.closeSync(fd);
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Takes the build lock (O_EXCL create); waits for other holders, breaks stale locks. */
export async function acquireLock(
  lockPath: string,
  log: (msg: string) => void,
  hooks: { beforeBreak?: () => void; signal?: AbortSignal } = {},
): Promise<() => void> {
  const deadline = Date.now() + BUILD_TIMEOUT_MS;
  let announced = false;
  let orphanAnnounced = false;
  for (;;) {
    try {
      const fd = fs.openSync(lockPath, 'wx');
      fs.writeSync(fd, `${process.pid} ${new Date().toISOString()}\n`);
      fs.closeSync(fd);
      return () => {
        try {
          fs.unlinkSync(lockPath);
        } catch {
          // already gone (broken as stale by someone else): nothing to do
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let stale = false;
    let seen = '';
    try {
      const st = fs.statSync(lockPath);
      const text = fs.readFileSync(lockPath, 'utf8');
      seen = lockIdentity(st, text);
      const holder = Number.parseInt(text.split(' ')[0] ?? '', 10);
      const maven = lockMavenPid(text);
      const ageMs = Date.now() - st.mtimeMs;
      const holderGone =
        Number.isInteger(holder) && holder > 0 && ageMs > 2000 && !pidAlive(holder);
      // A holder killed outright (SIGKILL) leaves its Maven running: building beside it
      // in the same target/ could break both builds, so its end is waited for.
      const mavenRuns = holderGone && maven !== undefined && pidAlive(maven);
      // A lock whose holder (same machine) is gone is stale, and one older than a build
      // may take: a live holder's Maven may run that long, and a rebuild removes its output.
      stale = ageMs > BUILD_TIMEOUT_MS + 60_000 || (holderGone && !mavenRuns);
      if (mavenRuns && !orphanAnnounced) {
        log(
          `neo4j-local: the process that was building the launcher is gone but its Maven ` +
            `(pid ${maven}) still runs; waiting for it to end`,
        );
        orphanAnnounced = true;
        announced = true;
      }
    } catch (err) {
      // vanished between open and stat: just retry; anything else (a directory, no
      // permission) would retry here forever without yielding
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    if (stale) {
      log(`neo4j-local: breaking stale build lock ${lockPath}`);
      hooks.beforeBreak?.();
      // under a takeover file: two waiters both breaking it had both built (review, 12-05)
      const outcome = takeOverStale(lockPath, seen, () => currentLock(lockPath));
      if (outcome === 'abandoned')
        throw new Error(
          `neo4j-local: a process died while breaking the stale build lock ${lockPath}: ` +
            `if no build is running, remove ${lockPath}.takeover`,
        );
      if (outcome === 'busy') await sleep(100);
      continue;
    }
    if (!announced) {
      log('neo4j-local: another process is building the launcher, waiting');
      announced = true;
    }
    if (Date.now() > deadline) {
      throw new Error(`neo4j-local: timed out waiting for the build lock ${lockPath}`);
    }
    // Ctrl-C while another process builds: not ignored for the rest of its build.
    if (hooks.signal?.aborted) throw new Error('neo4j-local: the launcher build was stopped');
    await sleep(500);
  }
}

/** Adds Maven's pid to our lock; a failure costs only that protection, not the build. */
function noteMavenPid(lockPath: string, pid: number, log: (msg: string) => void): void {
  try {
    // appended to the holder's line, and only to a lock that exists ('r+' creates none)
    const fd = fs.openSync(lockPath, 'r+');
    try {
      fs.writeSync(fd, `maven ${pid}\n`, fs.fstatSync(fd).size);
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    log(`neo4j-local: could not note Maven's pid in ${lockPath}: ${(err as Error).message}`);
  }
}

/** The pid of the holder's Maven, which the holder adds to the lock once it spawns it. */
function lockMavenPid(text: string): number | undefined {
  const m = /^maven (\d+)$/m.exec(text);
  const pid = m ? Number.parseInt(m[1] ?? '', 10) : NaN;
  return pid > 0 ? pid : undefined;
}

/**
 * Which lock file this is: its inode and time with its text, since two locks can read
 * alike (both still empty, their holders not yet having written their pid).
 */
function lockIdentity(st: fs.Stats, text: string): string {
  return `${st.ino} ${st.mtimeMs} ${text}`;
}

/** The identity of the lock at `lockPath` now, or undefined when there is none. */
function currentLock(lockPath: string): string | undefined {
  try {
    return lockIdentity(fs.statSync(lockPath), fs.readFileSync(lockPath, 'utf8'));
  } catch {
    return undefined;
  }
}

function tail(text: string, chars = TAIL_CHARS): string {
  return text.length > chars ? `...${text.slice(-chars)}` : text;
}

/** A finished child process: how it ended and the tail of its stdout + stderr. */
interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/**
 * Runs a command to its end, keeping the tail of its output; rejects only when it cannot
 * be spawned (the error as spawn gives it). SIGKILLed after `timeoutMs`; SIGTERMed when
 * `signal` aborts.
 */
function runToEnd(
  command: string,
  args: string[],
  opts: {
    env?: NodeJS.ProcessEnv;
    timeoutMs?: number;
    outputChars?: number;
    signal?: AbortSignal;
    /** called with the child's pid once it is spawned */
    onSpawn?: (pid: number) => void;
  } = {},
): Promise<Finished> {
  return new Promise((resolve, reject) => {
    let output = '';
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env });
    trackChild(child);
    if (child.pid !== undefined) opts.onSpawn?.(child.pid);
    const append = (chunk: Buffer) => {
      output = tail(output + chunk.toString('utf8'), opts.outputChars);
    };
    child.stdout.on('data', append);
    child.stderr.on('data', append);
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    const onAbort = () => child.kill('SIGTERM');
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
    const settled = () => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      running.delete(child);
    };
    child.on('error', (err) => {
      settled();
      reject(err);
    });
    child.on('close', (code, signal) => {
      settled();
      resolve({ code, signal, output });
    });
  });
}

/** Java or Maven missing: a machine to set up, said without a stack trace (main.ts). */
export class PrerequisiteMissing extends Error {
  override name = 'PrerequisiteMissing';
}

async function runMaven(
  pom: string,
  signal?: AbortSignal,
  onSpawn?: (pid: number) => void,
): Promise<void> {
  const mvn = process.platform === 'win32' ? 'mvn.cmd' : 'mvn';
  const args = ['-q', '-B', '-f', pom, 'package', '-DskipTests'];
  let done: Finished;
  try {
    done = await runToEnd(mvn, args, {
      // Spelt out: a test's stand-in `mvn` on PATH reaches spawn only this way under Jest.
      env: process.env,
      timeoutMs: BUILD_TIMEOUT_MS,
      outputChars: 4 * TAIL_CHARS,
      signal,
      onSpawn,
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new PrerequisiteMissing(
        'neo4j-local: `mvn` not found on PATH. The embedded Neo4j needs Maven 3.8+ and ' +
          'Java 17 (or set NEO4J_URI to use an existing Neo4j).',
      );
    }
    throw new Error(`neo4j-local: cannot run mvn: ${(err as Error).message}`);
  }
  if (signal?.aborted) throw new Error('neo4j-local: the launcher build was stopped');
  if (done.code !== 0) {
    // Maven's own check for Java, before it builds anything: Java missing (review, 12-07)
    const Kind = /JAVA_HOME environment variable is not defined/.test(done.output)
      ? PrerequisiteMissing
      : Error;
    throw new Kind(
      `neo4j-local: \`${mvn} ${args.join(' ')}\` failed (${done.signal ?? `exit ${done.code}`}). ` +
        `Output tail:\n${tail(done.output.trim()) || '(no output)'}`,
    );
  }
}

/**
 * Builds neo4j-local/target/neo4j-local.jar (+ target/lib) when missing or when pom.xml or
 * the Java sources changed; returns the jar path. Safe to call from many processes at once.
 * `root` (the folder holding neo4j-local/) is for tests that build a stand-in project.
 */
export async function ensureLauncherBuilt(
  log: (msg: string) => void = noop,
  signal?: AbortSignal,
  root?: string,
): Promise<string> {
  const p = launcherPaths(root);
  const stamp = sourceStamp(p);
  if (isUpToDate(p, stamp)) return p.jar;

  fs.mkdirSync(p.target, { recursive: true });
  const release = await acquireLock(p.lock, log, { signal });
  try {
    if (isUpToDate(p, stamp)) return p.jar; // built by whoever held the lock
    log('neo4j-local: building the launcher with Maven (first run downloads Neo4j)');
    const started = Date.now();
    // Outputs of an earlier build go first: Maven keeps a file newer than its inputs, a
    // truncated one included, and a JVM running the old jar keeps its own (unlinked) copy.
    for (const old of [p.stamp, p.jar, p.lib]) fs.rmSync(old, { recursive: true, force: true });
    // Maven's pid in the lock: a waiter that finds this process gone waits for Maven too.
    await runMaven(p.pom, signal, (pid) => noteMavenPid(p.lock, pid, log));
    if (!buildIsWhole(p)) {
      throw new Error(
        `neo4j-local: Maven succeeded but ${p.jar} or a jar in ${p.lib} is missing or cut short`,
      );
    }
    // Class archives describe the old jars: the JVM would refuse them.
    for (const f of fs.readdirSync(p.target)) {
      if (f.endsWith('.jsa')) fs.rmSync(path.join(p.target, f), { force: true });
    }
    const tmp = `${p.stamp}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${stamp}\n`);
    fs.renameSync(tmp, p.stamp);
    log(`neo4j-local: launcher built in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    return p.jar;
  } finally {
    release();
  }
}

/**
 * JVM class-data sharing: the first launcher JVM of a kind (plain start, start with a bulk
 * import) to run without an archive dumps the classes it loaded at exit
 * (`-XX:ArchiveClassesAtExit`), and later ones map them (`-XX:SharedArchiveFile`): Neo4j
 * starts in ~3.2 s instead of ~4.9 s here.
 * One dumper at a time as a rule (an exclusive marker file; one older than STALE_LOCK_MS
 * is taken over). A dumper can outlive that (a service's Neo4j runs for days), so each
 * dumps to a file of its own, renamed into place only after a clean exit, and removes the
 * marker only while it is still its own. Archives are removed when the launcher is
 * rebuilt, and named by the JDK (jdk.ts): another JDK, or one updated in place, dumps its
 * own instead of warning at every start. A JDK without its base archive gets none
 * (review, 12-07: JDK 17 would not start).
 */
/** The jar's modification time, size and inode ('' when it is gone): changed by a rebuild. */
function jarStamp(jar: string): string {
  try {
    const st = fs.statSync(jar);
    return `${st.mtimeMs}/${st.size}/${st.ino}`;
  } catch {
    return '';
  }
}

export function classArchive(
  kind: string,
  p: { target: string; jar: string },
  jdk: Jdk | null,
): { args: string[]; exited: (code: number | null) => void } {
  // JVM warnings (e.g. an archive it cannot use) to stderr: stdout is the protocol.
  const quiet = ['-Xlog:disable', '-Xlog:all=warning:stderr'];
  // Without a base archive a dump stops the JVM at start, and a map finds nothing to add to.
  if (!jdk?.baseArchive) return { args: quiet, exited: noop };
  const archive = path.join(p.target, `${kind}-${jdk.stamp}.jsa`);
  try {
    // Older than the jar (rebuilt by hand): the JVM would refuse it; dump a new one.
    if (fs.statSync(archive).mtimeMs >= fs.statSync(p.jar).mtimeMs) {
      return { args: [...quiet, `-XX:SharedArchiveFile=${archive}`], exited: noop };
    }
    fs.rmSync(archive, { force: true });
  } catch {
    // no archive yet
  }
  const marker = `${archive}.dumping`;
  const id = randomBytes(8).toString('hex');
  const token = `${process.pid} ${id}\n`;
  try {
    if (fs.existsSync(marker) && Date.now() - fs.statSync(marker).mtimeMs > STALE_LOCK_MS) {
      fs.rmSync(marker, { force: true });
    }
    fs.writeFileSync(marker, token, { flag: 'wx' });
  } catch {
    return { args: quiet, exited: noop }; // someone else is dumping
  }
  removeOldDumps(p.target, `${path.basename(archive)}.`);
  const tmp = `${archive}.${id}.tmp`;
  // The dump describes the jar this JVM loaded: rebuilt meanwhile, it would be installed
  // as current for the new jar, refused by every later JVM and never replaced.
  const jarAtStart = jarStamp(p.jar);
  const ownMarker = () => {
    try {
      if (fs.readFileSync(marker, 'utf8') === token) fs.rmSync(marker, { force: true });
    } catch {
      // gone already: taken over as stale, and freed by its new holder
    }
  };
  return {
    // The dump warns once per class it cannot archive (signed jars, old class files):
    // ~1,000 lines that say nothing to a user.
    args: [...quiet, '-Xlog:cds*=error:stderr', `-XX:ArchiveClassesAtExit=${tmp}`],
    exited: (code) => {
      try {
        if (code === 0 && fs.existsSync(tmp) && jarStamp(p.jar) === jarAtStart) {
          fs.renameSync(tmp, archive);
          removeOtherArchives(p.target, kind, archive);
        } else fs.rmSync(tmp, { force: true });
      } catch {
        // best effort: without an archive the next JVM just starts slower
      } finally {
        ownMarker();
      }
    },
  };
}

/**
 * The kind's archives of other JDKs (and of before archives were named by JDK): ~120 MB
 * each, kept until the next rebuild otherwise (review, 12-07).
 */
function removeOtherArchives(dir: string, kind: string, keep: string): void {
  const ours = new RegExp(`^${kind}(-[0-9a-f]{12})?\\.jsa$`);
  for (const f of fs.readdirSync(dir)) {
    if (ours.test(f) && path.join(dir, f) !== keep) fs.rmSync(path.join(dir, f), { force: true });
  }
}

/** Dumps left by killed JVMs: a JVM writes its dump at exit, so one this old is no one's. */
function removeOldDumps(dir: string, prefix: string): void {
  for (const f of fs.readdirSync(dir)) {
    if (!f.startsWith(prefix) || !f.endsWith('.tmp')) continue;
    try {
      const file = path.join(dir, f);
      if (Date.now() - fs.statSync(file).mtimeMs > STALE_LOCK_MS) fs.rmSync(file, { force: true });
    } catch {
      // removed meanwhile
    }
  }
}

/** Launchers still running; SIGTERMed if this process exits without stopping them. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function trackChild(child: ChildProcess): void {
  running.add(child);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const c of running) {
        // SIGTERM lets the launcher close the store cleanly after we are gone; its stdin
        // also reaches EOF, which triggers the same clean shutdown.
        c.kill('SIGTERM');
      }
    });
  }
}

/**
 * Stops every child process this module started that still runs (a launcher still
 * starting, Maven building it): SIGTERM, SIGKILL after `graceMs`; resolves once all have
 * exited. For a process stopping before it holds a LocalNeo4j to stop() (a signal during
 * start-up): the launcher, told to stop while starting, finishes starting, then shuts
 * down cleanly, and its bolt.uri / bolt.password go with it.
 */
export async function stopChildProcesses(graceMs = STOP_GRACE_MS): Promise<void> {
  const children = [...running];
  const gone = Promise.all(
    children.map((c) =>
      c.exitCode !== null || c.signalCode !== null
        ? undefined
        : new Promise<void>((resolve) => {
            c.once('exit', () => resolve());
            c.once('error', () => resolve()); // never spawned: no 'exit' to come
          }),
    ),
  );
  if (await terminate(children, gone, graceMs)) await gone;
}

/**
 * SIGTERM to each child, then SIGKILL to all if `exited` has not settled within
 * `graceMs`; true when it had to kill.
 */
async function terminate(
  children: readonly ChildProcess[],
  exited: Promise<unknown>,
  graceMs: number,
): Promise<boolean> {
  for (const c of children) c.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), graceMs);
  });
  const first = await Promise.race([exited, late]);
  clearTimeout(timer);
  if (first !== 'late') return false;
  for (const c of children) c.kill('SIGKILL');
  return true;
}

/** Removals of bolt.uri / bolt.password still due; run by the exit hook if still here. */
const boltFiles = new Set<() => void>();
let boltFilesHookInstalled = false;

/**
 * Writes BOLT_URI_FILE and BOLT_PASSWORD_FILE (mode 0600) into `dataDir`; returns their
 * removal, which runs once however often it is called. The process's 'exit' hook also
 * runs it: a process.exit() (a start-up failure after connect) never lets the launcher's
 * `exited` promise settle, and the password must not outlive the Neo4j it opens.
 */
export function writeBoltFiles(dataDir: string, uri: string, password: string): () => void {
  const uriFile = path.join(dataDir, BOLT_URI_FILE);
  const passwordFile = path.join(dataDir, BOLT_PASSWORD_FILE);
  fs.writeFileSync(uriFile, `${uri}\n`);
  fs.rmSync(passwordFile, { force: true });
  fs.writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  // Once only: after this Neo4j exits, another may have written its own files here.
  const remove = () => {
    if (!boltFiles.delete(remove)) return;
    // Another launcher's already (it waited for this one's lock, see Launcher.lockDataDir).
    const written = runningBoltUri(dataDir);
    if (written !== null && written !== uri) return;
    for (const file of [uriFile, passwordFile]) {
      try {
        fs.rmSync(file, { force: true });
      } catch {
        // the folder itself is gone: nothing left to remove
      }
    }
  };
  boltFiles.add(remove);
  if (!boltFilesHookInstalled) {
    boltFilesHookInstalled = true;
    process.on('exit', () => {
      for (const removeFiles of boltFiles) removeFiles();
    });
  }
  return remove;
}

export const COLLECTORS = ['g1', 'parallel'] as const;
export type Collector = (typeof COLLECTORS)[number];

/**
 * G1 gives back the heap a full collection frees: a linkage run asks for one when
 * extract starts and when it is done (coterie.releaseHeap), as the page cache fills,
 * and build and score, the runner's largest memory, run, while Neo4j does little
 * (~0.4 GiB less for the two at 1M accounts). GCTimeRatio=4 (G1's default is 12) raises
 * G1's goal for time spent collecting from 7.7 % to 20 %, so it grows the heap later (while
 * the heap is under half its maximum G1 still grows it below that goal): at the default, a
 * linkage run's publish grew it to 0.64–1.1 GiB around 0.1–0.2 GiB of live data, with the
 * flag to 0.56–0.72 (bench/RESULTS.md, "Session of 12-06 11:24–"). The
 * parallel collector never gives memory back, but writes ~6 % more REST events/s on
 * 2 cores, where G1's concurrent threads compete with the one writing (bench/RESULTS.md).
 */
const GC_ARGS: Record<Collector, readonly string[]> = {
  g1: ['-XX:+UseG1GC', '-XX:GCTimeRatio=4'],
  parallel: ['-XX:+UseParallelGC'],
};

/**
 * Creates the data directory when missing; returns its absolute path. A file in the way
 * (the path itself, or a folder above it) is said plainly, not as a bare ENOTDIR/EEXIST.
 * The directory is its owner's alone (0700, an existing one narrowed to it): Neo4j
 * writes its store by the umask, and a store file opens without the password.
 */
export function makeDataDir(dir: string): string {
  const dataDir = path.resolve(dir);
  for (let p = dataDir; ; p = path.dirname(p)) {
    if (fs.existsSync(p)) {
      if (!fs.statSync(p).isDirectory()) {
        throw new Error(
          `neo4j-local: the data directory ${dataDir} cannot be made: ${p} is a file, not a ` +
            'directory. Set NEO4J_LOCAL_DATA_DIR to a directory (it is created when missing).',
        );
      }
      break;
    }
    if (path.dirname(p) === p) break;
  }
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    fs.chmodSync(dataDir, 0o700);
  } catch (err) {
    // another user's directory that this one may write to: judged by its mode below
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
  }
  // Neo4j writes its store by the umask, and a copy of the store opens without the
  // password: a folder others can enter is refused, not used as it is (review, 12-07).
  const mode = fs.statSync(dataDir).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new Error(
      `neo4j-local: the data directory ${dataDir} is open to other users (mode ` +
        `${mode.toString(8)}) and could not be narrowed to 700 ` +
        '(another user owns it, or its file system ignores the change): its store would be ' +
        'readable by them. Set NEO4J_LOCAL_DATA_DIR to a directory of your own.',
    );
  }
  return dataDir;
}

/** Starts a local Neo4j on 127.0.0.1 and resolves once Bolt answers queries. */
export async function startLocalNeo4j(opts: LocalNeo4jOptions): Promise<LocalNeo4j> {
  const log = opts.log ?? noop;
  // Before the build, which can take minutes on a fresh clone: a wrong path is said now.
  const dataDir = makeDataDir(opts.dataDir);
  const jar = await ensureLauncherBuilt(opts.buildLog ?? log, opts.signal);
  const heap = opts.heap ?? '1g';
  // A start with a bulk import loads the import tool's classes too: its own archive. None
  // when this start turns sharing off itself (a bench's --jvm-arg): the dump would stop it.
  const sharingOff = (opts.jvmArgs ?? []).some((a) => /^-Xshare:off$/.test(a));
  const cds = classArchive(
    opts.bulkImport ? 'neo4j-local-import' : 'neo4j-local',
    launcherPaths(),
    sharingOff ? null : jdkOf(javaBinary()),
  );
  const args = [
    `-Xmx${heap}`,
    ...GC_ARGS[opts.collector ?? 'g1'],
    '-XX:+ExitOnOutOfMemoryError',
    // The JVM's own messages ("Terminating due to java.lang.OutOfMemoryError") go to stdout
    // by default, where only protocol lines are read: to stderr, whose tail a failure shows.
    '-XX:+DisplayVMOutputToStderr',
    ...cds.args,
    ...(opts.jvmArgs ?? []),
    ...JVM_OPENS,
    '-jar',
    jar,
    '--data-dir',
    dataDir,
    '--port',
    String(opts.port ?? 0),
    '--pagecache',
    opts.pagecache ?? '512m',
  ];
  if (opts.pluginDir !== undefined) args.push('--plugin-dir', path.resolve(opts.pluginDir));
  const importArgs = path.join(dataDir, 'import.args');
  if (opts.bulkImport) {
    fs.rmSync(importArgs, { force: true });
    args.push('--import', importArgs);
  }
  const startedAt = Date.now();
  // Its own process group: a Ctrl-C in the terminal reaches this process only, which
  // then finishes its work (marking a run failed, freeing the lease) before stopping
  // Neo4j. If this process dies instead, the launcher's stdin closes and it stops itself.
  // Bolt needs a password even on loopback: a web page can open a WebSocket to it. Passed
  // in the environment (readable by this user only), never in argv.
  // Hex: base64url may begin with '-', which the admin tool takes for an option.
  const password = opts.password ?? randomBytes(24).toString('hex');
  if (password.length < 8 || password.startsWith('-')) {
    throw new Error('password: at least 8 characters, not beginning with "-"');
  }
  const child = spawn(javaBinary(), args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
    env: { ...process.env, NEO4J_LOCAL_PASSWORD: password },
  });
  trackChild(child);

  let stderrTail = '';
  let stdoutBuf = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    stderrTail = tail(stderrTail + text);
    for (const line of text.split('\n')) if (line.trim()) log(`neo4j-local[${child.pid}]: ${line}`);
  });
  // Never write to the child's stdin; an error there just means it is gone.
  child.stdin?.on('error', noop);

  const exited = new Promise<LocalExit>((resolve) => {
    child.on('exit', (code, signal) => {
      running.delete(child);
      cds.exited(code);
      resolve({ code, signal });
    });
  });

  const ready = new Promise<string>((resolve, reject) => {
    const fail = (why: string, Kind: new (message: string) => Error = Error) => {
      cleanup();
      child.kill('SIGKILL');
      // -XX:+ExitOnOutOfMemoryError exits 3, as a failed start does: the message tells them apart.
      const heapFull = /OutOfMemoryError: (Java heap space|GC overhead limit exceeded)/;
      const oom = heapFull.test(stderrTail)
        ? ` It ran out of memory with a ${heap} heap (NEO4J_LOCAL_HEAP).`
        : stderrTail.includes('java.lang.OutOfMemoryError')
          ? ' It ran out of memory (not heap: see the stderr tail).'
          : '';
      reject(
        new Kind(
          `neo4j-local: Neo4j did not start (${why}); data dir ${dataDir}.${oom}` +
            (stderrTail.trim() ? `\nstderr tail:\n${stderrTail.trim()}` : ' (no stderr output)'),
        ),
      );
    };
    const onStdout = (chunk: Buffer) => {
      stdoutBuf += chunk.toString('utf8');
      let nl: number;
      while ((nl = stdoutBuf.indexOf('\n')) >= 0) {
        const line = stdoutBuf.slice(0, nl).trim();
        stdoutBuf = stdoutBuf.slice(nl + 1);
        if (line.startsWith(READY_PREFIX)) {
          cleanup();
          resolve(line.slice(READY_PREFIX.length).trim());
          return;
        }
        if (line === IMPORTED) {
          // The import takes as long as the data needs; the start timeout runs from here.
          fs.rmSync(importArgs, { force: true });
          opts.onImported?.();
          armTimer();
        } else if (line) {
          // Our own prints go to stderr; whatever else reaches stdout is shown, not lost.
          log(`neo4j-local[${child.pid}]: ${line}`);
        }
      }
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      // Give stderr a moment to drain so the error carries the launcher's message.
      setTimeout(() => fail(`launcher exited early with ${signal ?? `code ${code}`}`), 100);
    };
    const onError = (err: NodeJS.ErrnoException) =>
      err.code === 'ENOENT'
        ? fail(
            `cannot run '${javaBinary()}': Java 17 is required (set JAVA_HOME or PATH)`,
            PrerequisiteMissing,
          )
        : fail(`cannot spawn java: ${err.message}`);
    let timer: NodeJS.Timeout | undefined;
    const startTimeoutMs = opts.startTimeoutMs ?? START_TIMEOUT_MS;
    const armTimer = () => {
      timer = setTimeout(
        () =>
          fail(
            `no READY line within ${startTimeoutMs / 1000}s; a store recovering after a crash, ` +
              "or a wait for a stopping launcher's lock, may need longer: NEO4J_LOCAL_START_TIMEOUT_MS",
          ),
        startTimeoutMs,
      );
    };
    if (!opts.bulkImport) armTimer();
    // Rejects only once the launcher is gone, so the caller may delete its files.
    const onAbort = () => {
      child.kill('SIGKILL');
      void exited.then(() => fail('stopped'));
    };
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
    function cleanup() {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      child.stdout?.off('data', onStdout);
      child.off('exit', onExit);
      child.off('error', onError);
    }
    child.stdout?.on('data', onStdout);
    child.on('exit', onExit);
    child.on('error', onError);
  });
  if (opts.bulkImport) {
    ready.catch(noop); // settled below either way
    try {
      const files = opts.bulkImport();
      // The launcher waits for this file to appear: write it whole, then rename.
      const text = files ? bulkImportArgs(dataDir, files).join('\n') : '';
      fs.writeFileSync(`${importArgs}.tmp`, text);
      fs.renameSync(`${importArgs}.tmp`, importArgs);
    } catch (err) {
      child.kill('SIGKILL');
      await exited;
      throw err;
    }
  }
  const uri = await ready;
  // Keep draining stdout (the STOPPED line) so the pipe never fills up.
  child.stdout?.on('data', noop);

  let stopping: Promise<LocalExit | null> | undefined;
  const stop = (): Promise<LocalExit | null> => {
    stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      if (await terminate([child], exited, STOP_GRACE_MS))
        log(`neo4j-local[${child.pid}]: no clean exit after ${STOP_GRACE_MS / 1000}s, SIGKILL`);
      // The child and its pipes are unref'd: without a timer of its own, a process with
      // nothing else left (a service's stop) could end here before hearing the exit. Bounded:
      // a launcher stuck in uninterruptible I/O outlives even SIGKILL.
      let timer: NodeJS.Timeout | undefined;
      const unheard = new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), STOP_GRACE_MS);
      });
      const ended = await Promise.race([exited, unheard]).finally(() => clearTimeout(timer));
      if (ended === null) {
        log(`neo4j-local[${child.pid}]: no exit heard ${STOP_GRACE_MS / 1000}s after SIGKILL`);
        return null;
      }
      const { code, signal } = ended;
      if (code !== 0) {
        log(`neo4j-local[${child.pid}]: exited with ${signal ?? `code ${code}`}`);
      }
      return ended;
    })();
    return stopping;
  };

  // The READY line means Bolt is bound; confirm it actually serves a session before handing out.
  const driver = neo4j.driver(uri, neo4j.auth.basic(LOCAL_USER, password), {
    connectionTimeout: 10_000,
  });
  try {
    await driver.verifyConnectivity();
  } catch (err) {
    await driver.close().catch(noop);
    await stop();
    throw new Error(
      `neo4j-local: launcher reported ${uri} but Bolt does not answer: ${(err as Error).message}` +
        (stderrTail.trim() ? `\nstderr tail:\n${stderrTail.trim()}` : ''),
      { cause: err },
    );
  }
  await driver.close();
  log(
    `neo4j-local[${child.pid}]: ready at ${uri} in ${((Date.now() - startedAt) / 1000).toFixed(1)}s`,
  );
  // Where this Neo4j serves, for a second process that finds the folder in use (the CLI
  // beside the service) to name the right URI; removed when this one exits, or this
  // process does.
  try {
    void exited.then(writeBoltFiles(dataDir, uri, password));
  } catch {
    // only a hint: a read-only folder would have failed the start already
  }

  // Do not keep the event loop alive just for the launcher; the exit hook and stdin EOF
  // still stop it if the caller forgets stop().
  child.unref();
  for (const s of [child.stdin, child.stdout, child.stderr]) {
    (s as unknown as { unref?: () => void } | null)?.unref?.();
  }

  return { uri, user: LOCAL_USER, password, pid: child.pid ?? -1, stop, exited };
}

/**
 * The import tool splits a `--nodes` value's file list at commas: a path with one would
 * be read as two files that do not exist (the load failing after its whole fold).
 */
export function checkImportPath(p: string): void {
  if (p.includes(',')) {
    throw new Error(`the bulk import cannot read a file whose path holds a comma: ${p}`);
  }
}

/** The admin tool's arguments for `import full` of the `neo4j` database under `home`. */
function bulkImportArgs(home: string, files: BulkImport): string[] {
  for (const f of [...files.nodes, ...files.relationships]) checkImportPath(f);
  return [
    'database',
    'import',
    'full',
    'neo4j',
    '--array-delimiter=;',
    // Any bad row fails the whole import rather than being skipped; --verbose makes the
    // tool name the row (otherwise it only says "Error in input data").
    '--bad-tolerance=0',
    '--verbose',
    `--multiline-fields=${files.multiline}`,
    `--id-type=${files.idType ?? 'string'}`,
    `--report-file=${path.join(home, 'import.report')}`,
    ...files.nodes.map((n) => `--nodes=${n}`),
    ...files.relationships.map((r) => `--relationships=${r}`),
  ];
}
