/**
 * Turns stored cluster properties into API shapes: `reasons`, `signals`,
 * `sharedIdentifiers` are JSON strings on the node (cypher/README.md).
 */
import type { z } from 'zod';
import type { reasonSchema, sharedIdentifierSchema } from './schemas';

export function parseJson<T>(value: unknown, fallback: T): T {
  if (typeof value !== 'string') return (value as T | null | undefined) ?? fallback;
  try {
    return JSON.parse(value) as T;
  } catch {
    return fallback;
  }
}

export type Reason = z.infer<typeof reasonSchema>;
export type SharedIdentifier = z.infer<typeof sharedIdentifierSchema>;

export function summary(c: Record<string, unknown>) {
  return {
    id: String(c.id),
    risk: Number(c.risk ?? 0),
    flagged: Boolean(c.flagged),
    size: Number(c.size ?? 0),
    reasons: parseJson<Reason[]>(c.reasons, []),
  };
}
