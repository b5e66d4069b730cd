/**
 * Structured JSON logging (pino). Prompt text is never logged: the redact list
 * covers every place a raw prompt could appear in a logged object.
 */
import pino from 'pino';

export type Logger = pino.Logger;

/**
 * Where logs go: stdout (fd 1) or a file. Buffered in 4 KiB chunks unless `sync`:
 * writing each line as it comes cost a quarter to a third of the membership lookup's
 * throughput (bench/query/RESULTS.md). pino flushes the buffer on exit and on fatal
 * signals, so buffered lines are lost only to SIGKILL or a crash of the machine.
 */
export function logDestination(dest: number | string, sync: boolean): pino.DestinationStream {
  return pino.destination({ dest, sync, minLength: sync ? 0 : 4096 });
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'coterie' },
    redact: {
      paths: ['prompt', '*.prompt', 'events[*].prompt', 'req.headers.authorization'],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
