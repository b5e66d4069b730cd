/**
 * Structured JSON logging (pino). Prompt text is never logged: the redact list
 * covers every place a raw prompt could appear in a logged object.
 */
import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'coterie' },
    redact: {
      paths: ['prompt', '*.prompt', 'events[*].prompt', 'req.headers.authorization'],
      censor: '[redacted]',
    },
  });
}
