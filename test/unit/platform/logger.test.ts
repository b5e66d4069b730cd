/** Log destinations: buffered lines still show within about a second; sync ones at once. */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  constants as fsConstants,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createLogger, logDestination } from '../../../src/platform/logger';

const dir = mkdtempSync(path.join(os.tmpdir(), 'coterie-logger-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const read = (file: string) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};

it('buffers lines, then flushes them within about a second even when nothing else is logged', async () => {
  const file = path.join(dir, 'buffered.log');
  const logger = createLogger('info', logDestination(file, false));
  logger.info({ n: 1 }, 'quiet line');
  expect(read(file)).toBe(''); // one short line stays in the 4 KiB buffer…
  // …until the periodic flush (every second; up to 5 s allowed for a starved event loop,
  // and nothing else here would flush it)
  for (const until = Date.now() + 5_000; !read(file) && Date.now() < until;) {
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(read(file)).toContain('"msg":"quiet line"');
});

it('writes each line at once when sync', () => {
  const file = path.join(dir, 'sync.log');
  const logger = createLogger('info', logDestination(file, true));
  logger.info('at once');
  expect(read(file)).toContain('"msg":"at once"');
});

it('redacts prompts and request bodies an error carries, wherever they are logged', () => {
  const file = path.join(dir, 'redacted.log');
  const logger = createLogger('info', logDestination(file, true));
  const err = Object.assign(new Error('bad json'), { body: '{"prompt": "SECRET-1' });
  const cause = Object.assign(new Error('inner'), { body: 'SECRET-2' });
  logger.error({ err, wrapped: new Error('outer', { cause }) }, 'failed');
  logger.error({ err: new Error('outer', { cause }) }, 'failed again');
  logger.info({
    prompt: 'SECRET-3',
    event: { prompt: 'SECRET-4' },
    events: [{ prompt: 'SECRET-5' }],
  });
  const text = read(file);
  expect(text).toContain('"msg":"failed again"');
  expect(text).toContain('[redacted]');
  expect(text).not.toMatch(/SECRET/);
});

it('keeps the event loop turning while the log reader does not read', async () => {
  // Found by review: each 4 KiB went out with a synchronous write, so a reader that
  // stopped (a paused terminal, `| less`, a stuck shipper) stopped the whole service.
  const fifo = path.join(dir, 'stalled.fifo');
  execFileSync('mkfifo', [fifo]);
  const reader = openSync(fifo, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK); // never read
  const writer = openSync(fifo, 'w');
  const logger = JSON.stringify(path.join(__dirname, '../../../src/platform/logger.ts'));
  const script = [
    `const { createLogger, logDestination } = require(${logger});`,
    `const log = createLogger('info', logDestination(1, false));`,
    `setInterval(() => { for (let i = 0; i < 20; i++) log.info({ i, pad: 'x'.repeat(200) }, 'busy'); }, 5);`,
    `setInterval(() => process.stderr.write('tick\\n'), 100);`,
  ].join('\n');
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], {
    cwd: path.join(__dirname, '../../..'),
    stdio: ['ignore', writer, 'pipe'],
  });
  let ticks = 0;
  child.stderr?.on('data', (d: Buffer) => (ticks += d.toString().split('tick').length - 1));
  try {
    // tsx's start-up takes a while; then 2 s of ticks, the pipe long full (64 KiB)
    for (const until = Date.now() + 30_000; ticks === 0 && Date.now() < until;) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const before = ticks;
    await new Promise((r) => setTimeout(r, 2_000));
    expect(ticks - before).toBeGreaterThanOrEqual(10); // every 100 ms: 20 if nothing stalls
  } finally {
    child.kill('SIGKILL');
    closeSync(writer);
    closeSync(reader);
  }
}, 60_000);

/**
 * Runs a child that logs per `body` (with `log` and a counter `n`) to stdout, a pipe
 * nobody reads until the child writes "logged" to stderr, and exits at 5 s; then reads
 * the pipe to its end. Returns every line it got and what the child wrote to stderr.
 */
async function logBehindStalledReader(
  name: string,
  body: string[],
): Promise<{ lines: string[]; stderr: string }> {
  const fifo = path.join(dir, `${name}.fifo`);
  execFileSync('mkfifo', [fifo]);
  const reader = openSync(fifo, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  const writer = openSync(fifo, 'w');
  const logger = JSON.stringify(path.join(__dirname, '../../../src/platform/logger.ts'));
  const script = [
    // as tsx or a progress bar does: Node then makes fd 1 non-blocking, so writes find it busy
    `void process.stdout.fd;`,
    `const { createLogger, logDestination } = require(${logger});`,
    `const log = createLogger('info', logDestination(1, false));`,
    `let n = 0;`,
    ...body,
    `setTimeout(() => process.exit(0), 5000);`,
  ].join('\n');
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], {
    cwd: path.join(__dirname, '../../..'),
    stdio: ['ignore', writer, 'pipe'],
  });
  closeSync(writer); // the child's copy is the only writer: its exit ends the stream
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  // However slowly the child starts (tsx, a loaded machine), nothing is read until it
  // has logged everything.
  for (const until = Date.now() + 30_000; !stderr.includes('logged') && Date.now() < until;) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const chunks: Buffer[] = [];
  const stream = new net.Socket({ fd: reader, readable: true, writable: false });
  stream.on('data', (d: Buffer) => chunks.push(d));
  await Promise.all([
    new Promise((r) => stream.on('close', r)),
    new Promise((r) => child.on('close', r)),
  ]);
  const lines = Buffer.concat(chunks).toString('utf8').split('\n');
  expect(lines.pop()).toBe(''); // ends with a whole line
  return { lines, stderr };
}

it('never cuts a line or puts one after a newer one while its reader falls behind', async () => {
  // Found by review: a write that gave up on a busy descriptor dropped its unwritten end,
  // so half a line ran into the next one.
  const { lines } = await logBehindStalledReader('slow', [
    // ~1.3 MB in all: well under what the destination holds back (4 Mi characters)
    `const t = setInterval(() => { for (let i = 0; i < 5; i++) log.info({ n: n++, pad: 'y'.repeat(300) }, 'seq'); }, 2);`,
    // logging stops while the reader is away, and the child exits once it has read again
    `setTimeout(() => { clearInterval(t); log.info({ n: n++ }, 'last'); process.stderr.write('logged'); }, 1500);`,
  ]);
  expect(lines.length).toBeGreaterThan(100);
  // every line whole, none lost, none out of order: n = 0, 1, 2, … and "last" last
  const ns = lines.map((line) => (JSON.parse(line) as { n: number }).n);
  expect(ns).toEqual(ns.map((_, i) => i));
  expect(lines.at(-1)).toContain('"msg":"last"');
}, 60_000);

it('counts the lines it drops behind a reader far behind, and says how many once it writes', async () => {
  // ~9 MB logged while nobody reads: past the 4 Mi characters held back, lines are
  // dropped, and one warning with their number follows the lines that were kept.
  const { lines, stderr } = await logBehindStalledReader('far-behind', [
    `const batch = () => {`,
    `  for (let i = 0; i < 100; i++) log.info({ n: n++, pad: 'z'.repeat(3000) }, 'seq');`,
    `  if (n < 3000) setImmediate(batch); else process.stderr.write('logged ' + n);`,
    `};`,
    `batch();`,
  ]);
  const logged = Number(/logged (\d+)/.exec(stderr)?.[1]);
  const records = lines.map((line) => JSON.parse(line) as { n?: number; msg: string });
  const kept = records.filter((r) => r.msg === 'seq').map((r) => r.n);
  expect(kept).toEqual(kept.map((_, i) => i)); // the oldest lines, whole and in order
  expect(records.at(-1)?.msg).toBe(
    `${logged - kept.length} log lines dropped: the log's reader fell behind`,
  );
  expect(logged - kept.length).toBeGreaterThan(0);
  expect(records).toHaveLength(kept.length + 1);
}, 60_000);

describe('a buffered destination in a process that is ending', () => {
  const root = path.join(__dirname, '../../..');
  const logger = JSON.stringify(path.join(root, 'src/platform/logger.ts'));
  /**
   * A process that logs one line to buffered stdout, then ends as `how` says; `stdout`, a
   * file descriptor to give it as its fd 1 (else a pipe read here).
   */
  const run = (how: string, stdout?: number) => {
    const script = [
      `const { createLogger, logDestination } = require(${logger});`,
      `const logger = createLogger('info', logDestination(1, false));`,
      `setTimeout(() => { logger.info('the last line'); ${how} }, 200);`,
      `setTimeout(() => {}, 10_000);`,
    ].join('\n');
    // no core file from SIGQUIT, whatever the shell's limit
    const argv = ['-c', 'ulimit -c 0; exec "$@"', 'sh', process.execPath, '--import', 'tsx', '-e'];
    return spawnSync('sh', [...argv, script], {
      cwd: root,
      encoding: 'utf8',
      timeout: 20_000,
      killSignal: 'SIGKILL', // one stuck flushing on SIGTERM would outlive SIGTERM
      stdio: ['ignore', stdout ?? 'pipe', 'pipe'],
    });
  };

  it.each(['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM'])(
    'writes the line out on %s, which still ends the process as it would have',
    (signal) => {
      const child = run(`process.kill(process.pid, '${signal}');`);
      expect([child.signal, child.status]).toEqual([signal, null]);
      expect(child.stdout).toContain('"msg":"the last line"');
    },
  );

  it('leaves a signal the program handles itself to the program', () => {
    const child = run(
      "process.on('SIGTERM', () => setTimeout(() => process.exit(7), 300)); process.kill(process.pid, 'SIGTERM');",
    );
    expect([child.signal, child.status]).toEqual([null, 7]);
    expect(child.stdout).toContain('"msg":"the last line"');
  });

  // Found by review: a terminal closed under the service (SIGHUP, then every write EIO)
  // left pino's destination retrying its last lines every 100 ms for ever, so the stop
  // never ran and Neo4j stayed up. Here fd 1 is open for reading only: writes fail too.
  it.each([
    [
      'SIGHUP, handled',
      "process.on('SIGHUP', () => process.exit(0)); process.kill(process.pid, 'SIGHUP');",
    ],
    ['exit', 'process.exit(0);'],
  ])('ends on %s when its stdout can no longer be written', (_, how) => {
    const file = path.join(dir, 'read-only');
    writeFileSync(file, '');
    const fd = openSync(file, 'r');
    try {
      const child = run(how, fd);
      expect([child.error?.message, child.signal, child.status]).toEqual([undefined, null, 0]);
    } finally {
      closeSync(fd);
    }
  });

  it('writes the line out on an uncaught exception', () => {
    const child = run("throw new Error('boom');");
    expect(child.status).toBe(1);
    expect(child.stdout).toContain('"msg":"the last line"');
    expect(child.stderr).toContain('boom');
  });
});
