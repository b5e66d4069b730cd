/**
 * Structured JSON logging (pino). Prompt text is never logged: the redact list
 * covers every place a raw prompt could appear in a logged object.
 */
import fs from 'node:fs';
import pino from 'pino';

export type Logger = pino.Logger;

const FLUSH_EVERY_MS = 1000;

/**
 * Signals whose default action ends the process. On any of them the buffered
 * destinations are flushed first; then, if nothing else in the process listens for it
 * (the service's own SIGINT/SIGTERM/SIGHUP handlers do), the signal is raised again
 * with its default action, so the process still ends by it as it would have.
 */
const FATAL_SIGNALS = [
  'SIGHUP',
  'SIGINT',
  'SIGQUIT',
  'SIGTERM',
  'SIGUSR2',
  'SIGXCPU',
] as const satisfies readonly NodeJS.Signals[];

/** Buffered destinations: written out at exit and on a fatal signal. */
const buffered = new Set<LogDestination>();
let exitHooksInstalled = false;

/** Writes out every buffered destination now; never throws, never waits past a second. */
export function flushLogs(): void {
  for (const dest of buffered) dest.flushSync();
}

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  // process.exit(), the end of the event loop, an uncaught exception
  process.on('exit', flushLogs);
  for (const signal of FATAL_SIGNALS) {
    const onSignal = () => {
      flushLogs();
      if (process.listenerCount(signal) > 1) return; // someone handles it: theirs to end
      // The default action again: the last listener gone, Node restores it.
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

/** How long a write may find the descriptor busy (EAGAIN) before its lines are dropped. */
const BUSY_GIVE_UP_MS = 1000;
const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Lines gathered and written with one system call once `minBytes` are pending (0: each
 * at once), and by flushSync(). Written with fs.writeSync: a chunk is a few KiB, and a
 * write never left in flight cannot be lost or repeated at exit. A write that fails for
 * good (a closed terminal: EIO; a reader gone: EPIPE) ends this destination, its lines
 * dropped from then on. pino's own (sonic-boom 4) retried such a write every 100 ms for
 * ever in its flushSync, so closing the service's terminal hung its stop.
 */
class LogDestination {
  private pending: string[] = [];
  private pendingChars = 0;
  private broken = false;

  constructor(
    private readonly fd: number,
    private readonly minBytes: number,
  ) {}

  write(line: string): boolean {
    if (this.broken) return true;
    this.pending.push(line);
    this.pendingChars += line.length;
    if (this.pendingChars >= this.minBytes) this.flushSync();
    return true;
  }

  /** pino's logger.flush() */
  flush(cb?: (err?: Error) => void): void {
    this.flushSync();
    cb?.();
  }

  flushSync(): void {
    if (this.broken || this.pending.length === 0) return;
    const bytes = Buffer.from(this.pending.join(''), 'utf8');
    this.pending = [];
    this.pendingChars = 0;
    const giveUp = Date.now() + BUSY_GIVE_UP_MS;
    for (let at = 0; at < bytes.length;) {
      try {
        at += fs.writeSync(this.fd, bytes, at);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EAGAIN' && code !== 'EBUSY') {
          this.broken = true;
          buffered.delete(this);
          return;
        }
        if (Date.now() > giveUp) return; // these lines are lost; the next may get through
        Atomics.wait(pause, 0, 0, 10);
      }
    }
  }
}

/**
 * Where logs go: stdout (fd 1) or a file (appended to). Buffered in 4 KiB chunks unless
 * `sync`, so a busy service does not make one write system call per request line. The
 * buffer is flushed every second, at exit (process.exit(), the end of the event loop, an
 * uncaught exception) and on the signals that end a process (SIGHUP, SIGINT, SIGQUIT,
 * SIGTERM, SIGUSR2, SIGXCPU). Lost are at most the last second's lines (≤ 4 KiB) to what
 * runs no JavaScript: SIGKILL, process.abort() and a V8 out-of-memory abort, a crash of
 * the machine. `sync` loses none of them.
 */
export function logDestination(dest: number | string, sync: boolean): pino.DestinationStream {
  const fd = typeof dest === 'number' ? dest : fs.openSync(dest, 'a');
  const out = new LogDestination(fd, sync ? 0 : 4096);
  if (!sync) {
    buffered.add(out);
    installExitHooks();
    setInterval(() => out.flushSync(), FLUSH_EVERY_MS).unref();
  }
  return out;
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'coterie' },
    // Prompts, and request bodies an error may carry (body-parser puts the raw text on
    // err.body), whatever logs them.
    redact: {
      paths: ['prompt', '*.prompt', 'events[*].prompt', 'body', '*.body', 'err.cause.body'],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
