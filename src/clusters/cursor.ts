/**
 * Opaque keyset cursors: the sort key of the last row of a page, as base64url
 * JSON. Keyset (not offset) paging stays stable while rows are added elsewhere
 * and costs the same on page 1 and page 1,000.
 */
import { z } from 'zod';
import { AppError } from '../platform/errors';

export function encodeCursor(key: unknown[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/**
 * Decodes a cursor and checks its shape, or fails with 400 validation_failed naming
 * `param`, the query parameter it came in.
 */
export function decodeCursor<T extends unknown[]>(
  cursor: string,
  shape: z.ZodType<T>,
  param = 'cursor',
): T {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    raw = undefined;
  }
  const parsed = shape.safeParse(raw);
  if (!parsed.success) {
    throw new AppError('validation_failed', 'request is invalid', {
      details: [{ path: param, message: 'not a cursor this endpoint issued' }],
    });
  }
  return parsed.data;
}
