/**
 * Opaque keyset cursors: the sort key of the last row of a page, as base64url
 * JSON. Keyset (not offset) paging stays stable while rows are added elsewhere
 * and costs the same on page 1 and page 1,000.
 *
 * A cursor carries a tag of its scope: the endpoint and the filters of the page it
 * ends. Two endpoints' keys can have the same shape (verdicts and the audit trail page
 * by [at, id], one ascending, one descending), and a key under other filters names a
 * place in another list: either would answer 200 with a page that continues nothing.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../platform/errors';

/** The scope of a page: endpoint, then its filters in a fixed order (absent ones as null). */
export type CursorScope = [endpoint: string, ...filters: (string | number | boolean | null)[]];

/** A cluster's member pages: their key names the run and the cluster, checked apart. */
export const MEMBERS: CursorScope = ['members'];

function tagOf(scope: CursorScope): string {
  return createHash('sha256').update(JSON.stringify(scope)).digest('base64url').slice(0, 11);
}

export function encodeCursor(scope: CursorScope, key: unknown[]): string {
  return Buffer.from(JSON.stringify([tagOf(scope), ...key])).toString('base64url');
}

/**
 * Decodes a cursor, checks it was issued under `scope` and has the key's shape, or fails
 * with 400 validation_failed naming `param`, the query parameter it came in.
 */
export function decodeCursor<T extends unknown[]>(
  cursor: string,
  scope: CursorScope,
  shape: z.ZodType<T>,
  param = 'cursor',
): T {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    raw = undefined;
  }
  const [tag, ...key] = Array.isArray(raw) ? (raw as unknown[]) : [];
  const parsed = shape.safeParse(key);
  if (tag !== tagOf(scope) || !parsed.success) {
    throw new AppError('validation_failed', 'request is invalid', {
      details: [
        {
          path: param,
          message: 'not a cursor this endpoint issued with these filters: start again without it',
        },
      ],
    });
  }
  return parsed.data;
}
