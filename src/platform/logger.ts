/**
 * Structured JSON logging (pino). Prompt text is never logged: the redact list
 * covers every place a raw prompt could appear in a logged object.
 */
import pino from 'pino';

export type Logger = pino.Logger;

const FLUSH_EVERY_MS = 1000;

/**
 * Where logs go: stdout (fd 1) or a file. Buffered in 4 KiB chunks unless `sync`, so a
 * busy service does not make one write system call per request line. The buffer is
 * flushed every second, on exit and on fatal signals: a line shows within a second,
 * and buffered lines are lost only to SIGKILL or a crash of the machine.
 */
export function logDestination(dest: number | string, sync: boolean): pino.DestinationStream {
  const stream = pino.destination({ dest, sync, minLength: sync ? 0 : 4096 });
  if (!sync) {
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
