/**
 * One log line per request at info: method, path, status, time, caller and an id.
 * Deliberately not pino-http: its per-request child logger and full header
 * serialisation cost 20–45 % of the membership lookup's throughput even with
 * nothing written (bench/query/RESULTS.md); this costs one listener and one small
 * object. Headers are never logged (no Authorization to redact); 5xx causes are
 * logged by the error handler.
 */
import type { RequestHandler } from 'express';
import type { Logger } from './logger';

export function accessLog(logger: Logger, skip: (path: string) => boolean): RequestHandler {
  let seq = 0;
  return (req, res, next) => {
    if (skip(req.path)) return next();
    const started = performance.now();
    const id = ++seq;
    res.on('finish', () => {
      logger.info(
        {
          reqId: id,
          method: req.method,
          url: req.originalUrl,
          status: res.statusCode,
          ms: Math.round((performance.now() - started) * 10) / 10,
          caller: req.principal?.name,
        },
        'request',
      );
    });
    next();
  };
}
