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

/** Writes out what every buffered destination holds, now (see flushSync). */
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
      // Someone handles it (the service's stop): the loop runs on and writes as usual,
      // and the exit flushes the rest. Blocking here could hold that stop up.
      if (process.listenerCount(signal) > 1) return;
      flushLogs();
      // The default action again: the last listener gone, Node restores it.
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

/** Lines held while a reader is behind; past this, new lines are counted and dropped. */
const MAX_PENDING_CHARS = 4 * 1024 * 1024;
/** How long a synchronous write may find the descriptor busy (EAGAIN) before it gives up. */
const BUSY_GIVE_UP_MS = 1000;
const RETRY_MS = 10;
const pause = new Int32Array(new SharedArrayBuffer(4));

/** Write errors after which nothing more can be written: a closed terminal, a reader gone. */
const FOR_GOOD = new Set(['EIO', 'EPIPE', 'EBADF', 'EINVAL', 'ENXIO']);

const errCode = (err: unknown) => (err as NodeJS.ErrnoException | null)?.code ?? '';

/**
 * Lines gathered and written with one asynchronous write once `minBytes` are pending, or
 * each at once (sync: one synchronous write per line). One write in flight at a time, so
 * a reader that stops reading stalls a thread of libuv's pool, not the event loop; lines
 * pile up to MAX_PENDING_CHARS and are then dropped, and their count said once writing
 * goes on. A write that fails for good (FOR_GOOD) ends the destination; other errors lose
 * that chunk (whole lines) only. pino's own destination (sonic-boom 4) retried a failed
 * write every 100 ms for ever in its flushSync, so closing the service's terminal hung
 * its stop.
 */
class LogDestination {
  private pending: string[] = [];
  private pendingChars = 0;
  /** The unwritten end of a synchronous write that gave up: written first next time. */
  private carry: Buffer | null = null;
  /** The asynchronous write's bytes, how far they are written, and its retry if waiting. */
  private inFlight: { bytes: Buffer; at: number; retry?: NodeJS.Timeout } | null = null;
  private dropped = 0;
  private broken = false;

  constructor(
    private readonly fd: number,
    private readonly minBytes: number,
  ) {}

  write(line: string): boolean {
    if (this.broken) return true;
    if (this.minBytes === 0) {
      this.pending.push(line);
      this.flushSync();
      return true;
    }
    if (this.pendingChars + line.length > MAX_PENDING_CHARS) {
      this.dropped++;
      return true;
    }
    this.pending.push(line);
    this.pendingChars += line.length;
    if (this.pendingChars >= this.minBytes) this.flush();
    return true;
  }

  /** Starts writing what is pending unless a write is in flight (pino's logger.flush()). */
  flush(cb?: (err?: Error) => void): void {
    if (!this.inFlight && !this.broken && (this.pending.length > 0 || this.carry)) {
      this.writeFrom(this.take(), 0);
    }
    cb?.();
  }

  /**
   * What is pending, written now with synchronous writes (each line when sync; at exit and
   * on a fatal signal), after a write in flight if there is one, as sonic-boom does: its
   * lines are older, and the two may land in either order. A descriptor that stays busy
   * (EAGAIN) for a second is given up on, the rest kept for the next write; a blocking one
   * whose reader has stopped reading holds this up until it reads again.
   */
  flushSync(): void {
    if (this.inFlight?.retry) {
      // An asynchronous write waiting to retry (EAGAIN) is taken over: its unwritten
      // end goes first, so no line is cut or put after a newer one.
      clearTimeout(this.inFlight.retry);
      const rest = this.inFlight.bytes.subarray(this.inFlight.at);
      this.carry = this.carry ? Buffer.concat([rest, this.carry]) : rest;
      this.inFlight = null;
    }
    if (this.broken || (this.pending.length === 0 && !this.carry)) return;
    const bytes = this.take();
    const giveUp = Date.now() + BUSY_GIVE_UP_MS;
    for (let at = 0; at < bytes.length;) {
      try {
        at += fs.writeSync(this.fd, bytes, at);
      } catch (err) {
        const code = errCode(err);
        if (code === 'EAGAIN' || code === 'EBUSY') {
          if (Date.now() <= giveUp) {
            Atomics.wait(pause, 0, 0, RETRY_MS);
            continue;
          }
          this.carry = bytes.subarray(at); // never half a line followed by another
        } else if (FOR_GOOD.has(code)) this.end();
        return;
      }
    }
  }

  private take(): Buffer {
    if (this.dropped > 0) {
      const msg = `${this.dropped} log lines dropped: the log's reader fell behind`;
      this.pending.push(`${JSON.stringify({ level: 40, time: Date.now(), msg })}\n`);
      this.dropped = 0;
    }
    const text = Buffer.from(this.pending.join(''), 'utf8');
    const bytes = this.carry ? Buffer.concat([this.carry, text]) : text;
    this.carry = null;
    this.pending = [];
    this.pendingChars = 0;
    return bytes;
  }

  private writeFrom(bytes: Buffer, at: number): void {
    const inFlight: NonNullable<LogDestination['inFlight']> = { bytes, at };
    this.inFlight = inFlight;
    fs.write(this.fd, bytes, at, bytes.length - at, null, (err, n) => {
      if (this.inFlight !== inFlight) return; // ended meanwhile
      if (err) {
        const code = errCode(err);
        if (code === 'EAGAIN' || code === 'EBUSY') {
          inFlight.retry = setTimeout(() => this.writeFrom(bytes, at), RETRY_MS);
          inFlight.retry.unref();
          return;
        }
        this.inFlight = null;
        if (FOR_GOOD.has(code)) this.end();
        return; // this chunk is lost; the next may get through (ENOSPC, …)
      }
      if (at + n < bytes.length) return this.writeFrom(bytes, at + n);
      this.inFlight = null;
      if (this.pendingChars >= this.minBytes || this.dropped > 0) this.flush();
    });
  }

  private end(): void {
    this.broken = true;
    this.inFlight = null;
    this.carry = null;
    this.pending = [];
    this.pendingChars = 0;
    buffered.delete(this);
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
    setInterval(() => out.flush(), FLUSH_EVERY_MS).unref();
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
