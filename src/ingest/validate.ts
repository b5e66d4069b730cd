/**
 * Validation and cleaning of incoming events: zod checks against the public
 * contract, raw prompts turned into SimHash fingerprints (and dropped), IPs in
 * canonical form, timestamps as epoch milliseconds. Shared by REST and import.
 */
import { type CleanEvent, type EventIssue, eventSchema } from './event-schema';
import { simhash } from './simhash';
import { canonicalIp } from './subnet';

export type CleanResult = { ok: true; event: CleanEvent } | { ok: false; issues: EventIssue[] };

export function cleanEvent(raw: unknown, index = 0): CleanResult {
  const parsed = eventSchema.safeParse(raw);
  if (!parsed.success) {
    return {
      ok: false,
      issues: parsed.error.issues.map((issue) => ({
        index,
        path: issue.path.join('.'),
        message: issue.message,
      })),
    };
  }
  const { prompt, at, ip, promptFingerprint, ...rest } = parsed.data;
  const event: CleanEvent = { ...rest, at: Date.parse(at) };
  if (ip !== undefined) event.ip = canonicalIp(ip);
  // A client-side fingerprint wins; otherwise fingerprint the raw text, which is then forgotten.
  const fingerprint = promptFingerprint ?? (prompt !== undefined ? simhash(prompt) : undefined);
  if (fingerprint !== undefined) event.promptFingerprint = fingerprint;
  return { ok: true, event };
}

/** All-or-nothing: every event valid, or every issue of every bad event. */
export function cleanBatch(
  raws: unknown[],
): { ok: true; events: CleanEvent[] } | { ok: false; issues: EventIssue[] } {
  const events: CleanEvent[] = [];
  const issues: EventIssue[] = [];
  raws.forEach((raw, index) => {
    const result = cleanEvent(raw, index);
    if (result.ok) events.push(result.event);
    else issues.push(...result.issues);
  });
  return issues.length > 0 ? { ok: false, issues } : { ok: true, events };
}
