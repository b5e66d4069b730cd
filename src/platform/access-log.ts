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
export function loggedUrl(url: string, path: PathShown = 'whole'): string {
  const q = url.indexOf('?');
  const shownPath = loggedPath(q < 0 ? url : url.slice(0, q), path);
  if (q < 0) return shownPath;
  const names = [...new URLSearchParams(url.slice(q + 1)).keys()];
  const shown = names.filter((n) => PARAMETER_NAME.test(n));
  const hidden = names.length - shown.length;
  if (hidden > 0) shown.push(`(${hidden} other${hidden > 1 ? 's' : ''})`);
  return shown.length > 0 ? `${shownPath}?${shown.join('&')}` : shownPath;
}

/**
 * How much of a path to log. A path is the client's text, a prompt even: only one a route
 * took and answered below 400 (its ids validated and found) is kept whole. One a route
 * took but refused (its `:id` may be any text: a 403 is decided before it is read) keeps
 * 64 characters a segment; one no route took, its first 64 characters (review, 12-05).
 */
export type PathShown = 'whole' | 'segments' | 'prefix';

export function pathShown(routed: boolean, status: number): PathShown {
  return !routed ? 'prefix' : status < 400 ? 'whole' : 'segments';
}

export function loggedPath(path: string, shown: PathShown): string {
  const cut = (text: string) =>
    text.length <= SHOWN_CHARS ? text : `${text.slice(0, SHOWN_CHARS)}…`;
  if (shown === 'whole') return path;
  if (shown === 'prefix') return cut(path);
  return path.split('/').map(cut).join('/');
}

const SHOWN_CHARS = 64;

const PARAMETER_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,31}$/;

export function accessLog(logger: Logger, skip: (path: string) => boolean): RequestHandler {
  let seq = 0;
  return (req, res, next) => {
    if (skip(req.path)) return next();
    const started = performance.now();
    const id = ++seq;
    // 'close', not 'finish': a client that hangs up before its answer gets no 'finish',
    // and its request (an ingest batch still written, a run triggered) went unlogged
    // (review, 12-06). Its line says aborted, with no status: none was sent.
    res.once('close', () => {
      const answered = res.writableFinished;
      const status = answered ? res.statusCode : 499;
      logger.info(
        {
          reqId: id,
          method: req.method,
          url: loggedUrl(req.originalUrl, pathShown(req.route !== undefined, status)),
          ...(answered ? { status } : { aborted: true }),
          ms: Math.round((performance.now() - started) * 10) / 10,
          caller: req.principal?.name,
        },
        'request',
      );
    });
    next();
  };
}
