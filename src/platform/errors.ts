/**
 * Application errors with a stable machine-readable `code`.
 * One Express error handler (src/platform/http.ts) maps codes to HTTP statuses;
 * tests assert on codes, never on messages.
 */

export type ErrorCode =
  | 'bad_request'
  | 'invalid_json'
  | 'validation_failed'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'run_in_progress'
  | 'too_many_queries'
  | 'too_many_requests'
  | 'write_not_allowed'
  | 'query_timeout'
  | 'query_memory_limit'
  | 'result_too_deep'
  | 'result_too_large'
  | 'idempotency_key_reused'
  | 'database_unavailable'
  | 'database_busy'
  | 'not_ready'
  | 'internal';

const STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  invalid_json: 400,
  validation_failed: 400,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unauthenticated: 401,
  forbidden: 403,
  write_not_allowed: 403,
  not_found: 404,
  conflict: 409,
  run_in_progress: 409,
  too_many_queries: 429,
  too_many_requests: 429,
  query_timeout: 504,
  query_memory_limit: 422,
  result_too_deep: 422,
  result_too_large: 422,
  idempotency_key_reused: 422,
  database_unavailable: 503,
  database_busy: 503,
  not_ready: 503,
  internal: 500,
};

/**
 * Seconds a client should wait before sending again (the Retry-After header), for the
 * answers that say "later": a full write queue or a busy slot clears in about a second,
 * a database or service coming back takes longer.
 */
const RETRY_AFTER_S: Partial<Record<ErrorCode, number>> = {
  too_many_queries: 1,
  database_busy: 1,
  database_unavailable: 5,
  not_ready: 5,
};

export function retryAfterSeconds(code: ErrorCode): number | undefined {
  return RETRY_AFTER_S[code];
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details?: unknown;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; details?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.details = options.details;
  }

  get status(): number {
    return STATUS[this.code];
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}
