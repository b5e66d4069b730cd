/**
 * Structured JSON logging (pino). Prompt text is never logged: the redact list
 * covers every place a raw prompt could appear in a logged object.
 */
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

/** Buffered destinations still open: flushed on a fatal signal. */
const buffered = new Set<pino.DestinationStream & { flushSync(): void }>();
let signalHooksInstalled = false;

/** Writes out every buffered destination now; never throws (one not open yet has nothing). */
export function flushLogs(): void {
  for (const stream of buffered) {
    try {
      stream.flushSync();
    } catch {
      // not open yet (nothing written to it), or already closed
    }
  }
}

function installSignalHooks(): void {
  if (signalHooksInstalled) return;
  signalHooksInstalled = true;
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

/**
 * Where logs go: stdout (fd 1) or a file. Buffered in 4 KiB chunks unless `sync`, so a
 * busy service does not make one write system call per request line. The buffer is
 * flushed every second, at exit (process.exit(), the end of the event loop, an uncaught
 * exception) and on the signals that end a process (SIGHUP, SIGINT, SIGQUIT, SIGTERM,
 * SIGUSR2, SIGXCPU). Lost are at most the last second's lines (≤ 4 KiB) to what runs no
 * JavaScript: SIGKILL, process.abort() and a V8 out-of-memory abort, a crash of the
 * machine. `sync` loses none of them.
 */
export function logDestination(dest: number | string, sync: boolean): pino.DestinationStream {
  const stream = pino.destination({ dest, sync, minLength: sync ? 0 : 4096 });
  if (!sync) {
    buffered.add(stream);
    stream.on('close', () => buffered.delete(stream));
    installSignalHooks();
    const timer = setInterval(() => {
      try {
        stream.flush();
      } catch {
        // not open yet, or already closed: the next tick or the exit flush writes it
      }
    }, FLUSH_EVERY_MS);
    timer.unref();
  }
  return stream;
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
