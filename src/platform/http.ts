/**
 * Express plumbing shared by every feature: the JSON body parser with its size
 * limit, the 404 fallback, and the ONE error handler that turns errors into
 * `{"error": {"code", "message", "details"?}}` with the status their code implies.
 */
import { isUtf8 } from 'node:buffer';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { z, type ZodType } from 'zod';
import { UNKNOWN_KEY } from './auth';
import { clientName } from './client-name';
import { loggedPath } from './access-log';
import { AppError, isAppError, retryAfterSeconds } from './errors';
import type { Logger } from './logger';

/**
 * The methods whose request body the service reads, as JSON: those its routes take a body
 * on. Only these are parsed (a GET's body means nothing and is left unread; no route takes
 * PUT or PATCH, which answer 404 whatever they carry), so only these can answer 400
 * invalid_json, 413 payload_too_large and 415 unsupported_media_type for a body; the
 * OpenAPI document lists those statuses on exactly these operations (openapi.ts).
 */
export const BODY_METHODS: readonly string[] = ['POST', 'DELETE'];

export function jsonBody(limitBytes: number): RequestHandler {
  const parse = express.json({ limit: limitBytes, strict: true, verify: utf8Only });
  return (req, res, next) => {
    if (!BODY_METHODS.includes(req.method)) return next();
    const type = req.headers['content-type'];
    // body-parser takes `utf-8` only: `utf8`, a common spelling of it, was 415 (review, 12-07)
    if (type !== undefined) req.headers['content-type'] = type.replace(UTF8_NO_DASH, '$1utf-8');
    parse(req, res, (err?: unknown) => (err ? next(err) : onlyJson(req, res, next)));
  };
}

/** The charset parameter spelled `utf8`, quoted or not, up to the next parameter. */
const UTF8_NO_DASH = /(;\s*charset\s*=\s*)"?utf8"?(?=\s*(;|$))/i;

const NOT_UTF8 = 'entity.not.utf8';

/**
 * A body read as UTF-8 (declared so, or with no charset) must be UTF-8: the decoder
 * would turn other bytes into U+FFFD silently, and "Zürich" sent as latin1 would be
 * stored as a second, different org.
 */
function utf8Only(_req: unknown, _res: unknown, buf: Buffer, encoding: string): void {
  if (encoding.toLowerCase().replace('-', '') === 'utf8' && !isUtf8(buf)) {
    // A plain error: body-parser sets `status` on what verify throws (asAppError maps it).
    throw Object.assign(new Error('request body is not valid UTF-8'), {
      type: NOT_UTF8,
      status: 400,
    });
  }
}

/** A body sent as anything but JSON would reach the routes as "no body": say why instead. */
const onlyJson: RequestHandler = (req, _res, next) => {
  if (req.is('application/json') === false && hasBody(req)) {
    return next(
      new AppError(
        'unsupported_media_type',
        'send the body as JSON (content-type: application/json)',
        {
          details: { contentType: req.headers['content-type'] ?? null },
        },
      ),
    );
  }
  next();
};

function hasBody(req: Parameters<RequestHandler>[0]): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

export const notFound: RequestHandler = (req, _res, next) => {
  // The path is the client's text (a prompt, even): its first characters only (review, 12-06).
  next(new AppError('not_found', `no route for ${req.method} ${loggedPath(req.path, 'prefix')}`));
};

interface BodyParserError {
  type?: string;
  status?: number;
  statusCode?: number;
  limit?: number;
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const appError = asAppError(err);
    // the client's text: see access-log.ts (a path no route took may hold any number of /)
    const path = loggedPath(req.path, req.route ? 'segments' : 'prefix');
    if (appError.code === 'internal') logger.error({ err, path }, 'unhandled error');
    else if (appError.code === 'database_unavailable')
      logger.warn({ err: appError.cause }, 'database unavailable');
    else if (appError.code === 'query_memory_limit')
      logger.warn({ err: appError.cause, path }, 'past the memory one transaction may use');
    const body: { code: string; message: string; details?: unknown } = {
      code: appError.code,
      message: appError.message,
    };
    if (appError.details !== undefined) body.details = appError.details;
    const retryAfter = retryAfterSeconds(appError.code);
    if (retryAfter !== undefined) res.set('Retry-After', String(retryAfter));
    if (appError.code === 'unauthenticated') res.set('WWW-Authenticate', wwwAuthenticate(appError));
    res.status(appError.status).json({ error: body });
  };
}

/** RFC 9110 §11.6.1: a 401 names its scheme; RFC 6750 §3.1 says why a key presented failed. */
function wwwAuthenticate(err: AppError): string {
  return err.message === UNKNOWN_KEY
    ? 'Bearer realm="coterie", error="invalid_token"'
    : 'Bearer realm="coterie"';
}

function asAppError(err: unknown): AppError {
  if (isAppError(err)) return err;
  const parserError = err as BodyParserError;
  if (parserError?.type === 'entity.too.large') {
    return new AppError('payload_too_large', `request body exceeds ${parserError.limit} bytes`, {
      cause: err,
    });
  }
  if (parserError?.type === NOT_UTF8) {
    return new AppError(
      'invalid_json',
      'request body is not valid UTF-8 (send UTF-8, or declare its charset)',
      { cause: err },
    );
  }
  if (parserError?.type === 'entity.parse.failed') {
    return new AppError('invalid_json', 'request body is not valid JSON', { cause: err });
  }
  // Other client errors from Express and body-parser: a path that is not valid
  // percent-encoding (URIError, status 400, no type), an unsupported charset (415).
  // Their messages quote the client's text (the whole undecodable path segment, a charset
  // header), so the answer carries a fixed text or its first characters (review, 12-06).
  const status = parserError?.status ?? parserError?.statusCode;
  if (err instanceof URIError && status === 400) {
    return new AppError('bad_request', 'the path is not valid percent-encoding', { cause: err });
  }
  const message = clientName((err as Error).message ?? '', 200);
  if (status === 415) {
    return new AppError('unsupported_media_type', message, { cause: err });
  }
  if (status !== undefined && status >= 400 && status < 500) {
    return new AppError('bad_request', message, { cause: err });
  }
  return new AppError('internal', 'internal error', { cause: err });
}

/** Parse request input with a zod schema, or fail with 400 validation_failed. */
/** For routes that take no query parameters: any is refused, as a typo would be. */
export const noQuery = z.object({}).strict();

export function parseInput<T>(schema: ZodType<T>, input: unknown): T {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    throw new AppError('validation_failed', 'request is invalid', {
      details: parsed.error.issues.map((i) => ({
        path: i.path.join('.'),
        message: i.code === 'unrecognized_keys' ? unknownNames(i.keys) : i.message,
      })),
    });
  }
  return parsed.data;
}

/**
 * A query string parsed with `schema`, as parseInput does; a parameter the schema takes
 * given more than once (Express reads it as a list) is refused as such, not as a number
 * or value badly written (review, 12-06).
 */
export function parseQuery<T>(schema: ZodType<T>, query: unknown): T {
  const known = schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
  const repeated = Object.entries((query ?? {}) as Record<string, unknown>)
    .filter(([name, value]) => Array.isArray(value) && known.includes(name))
    .map(([name]) => ({ path: name, message: 'given more than once: send it once' }));
  if (repeated.length > 0) {
    throw new AppError('validation_failed', 'request is invalid', { details: repeated });
  }
  return parseInput(schema, query);
}

/**
 * Names not taken, each cut to 32 characters: a name is the client's text, which the
 * answer (and a query string, the access log) would otherwise carry whole; a producer
 * misconfigured to send prompt text there must not get it echoed (review, 12-05).
 */
function unknownNames(keys: string[]): string {
  const names = keys.map((k) => JSON.stringify(clientName(k)));
  return `unknown parameter${keys.length > 1 ? 's' : ''} ${names.join(', ')}`;
}
