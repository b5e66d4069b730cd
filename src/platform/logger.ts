/**
 * Structured JSON logging (pino). Prompt text is never logged: the redact list
 * covers every place a raw prompt could appear in a logged object.
 */
import pino from 'pino';

export type Logger = pino.Logger;

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
