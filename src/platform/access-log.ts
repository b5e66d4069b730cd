/**
 * One log line per request at info: method, path, status, time, caller and an id.
 * Deliberately not pino-http: its per-request child logger and full header
 * serialisation cost 20–45 % of the membership lookup's throughput even with
 * nothing written (bench/query/RESULTS.md); this costs one listener and one small
 * object. Headers are never logged (no Authorization to redact); 5xx causes are
 * logged by the error handler.
 */
import type { RequestHandler } from 'express';
import { clientName } from './client-name';
import type { Logger } from './logger';

/**
 * The URL without its query values: only their names, each cut to 32 characters. A query
 * value is the client's text, and a producer misconfigured to send a prompt in one
 * (POST /v1/events?prompt=…) must not have it logged (review, 12-05). The names still
 * say which filters a request used.
 */
export function loggedUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const names = [...new URLSearchParams(url.slice(q + 1)).keys()].map(clientName);
  return names.length > 0 ? `${url.slice(0, q)}?${names.join('&')}` : url.slice(0, q);
}

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
          url: loggedUrl(req.originalUrl),
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
