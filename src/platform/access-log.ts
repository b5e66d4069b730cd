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

/**
 * The URL without its query values, and only the names that look like parameter names
 * (a letter, then up to 31 letters, digits, `_`, `.` or `-`); the rest are counted. A
 * query value is the client's text, and a producer misconfigured to send a prompt in one
 * (POST /v1/events?prompt=…) must not have it logged (review, 12-05); an unencoded `&`
 * in that text splits it into more "names", so a name with a space or punctuation in it
 * is text, not a name (review, 12-05).
 */
export function loggedUrl(url: string, routed = true): string {
  const q = url.indexOf('?');
  const path = pathShown(q < 0 ? url : url.slice(0, q), routed);
  if (q < 0) return path;
  const names = [...new URLSearchParams(url.slice(q + 1)).keys()];
  const shown = names.filter((n) => PARAMETER_NAME.test(n));
  const hidden = names.length - shown.length;
  if (hidden > 0) shown.push(`(${hidden} other${hidden > 1 ? 's' : ''})`);
  return shown.length > 0 ? `${path}?${shown.join('&')}` : path;
}

/**
 * A path no route took (a 404) is the client's text too, and may be anything: its first
 * 64 characters say what was asked for. A routed path holds only ids, kept whole.
 */
function pathShown(path: string, routed: boolean): string {
  return routed || path.length <= UNROUTED_PATH_CHARS
    ? path
    : `${path.slice(0, UNROUTED_PATH_CHARS)}…`;
}

const UNROUTED_PATH_CHARS = 64;

const PARAMETER_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,31}$/;

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
          url: loggedUrl(req.originalUrl, req.route !== undefined),
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
