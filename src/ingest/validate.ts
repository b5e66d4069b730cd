/**
 * Validation and cleaning of incoming events: zod checks against the public
 * contract, raw prompts turned into SimHash fingerprints (and dropped), IPs in
 * canonical form, timestamps as epoch milliseconds. Shared by REST and import.
 */
import {
  type CleanEvent,
  EARLIEST_AT,
  type EventIssue,
  MAX_FUTURE_HOURS,
  eventSchema,
} from './event-schema';
import { simhash } from './simhash';
import { canonicalIp } from './subnet';

const MAX_FUTURE_MS = MAX_FUTURE_HOURS * 3_600_000;
const TOO_FAR_AHEAD = `is more than ${MAX_FUTURE_HOURS} hours ahead of the server clock`;
const EARLIEST_MS = Date.parse(EARLIEST_AT);
const TOO_EARLY = `is before ${EARLIEST_AT} (a clock or timestamp error)`;

export type CleanResult = { ok: true; event: CleanEvent } | { ok: false; issues: EventIssue[] };

/** `now`: the server's clock, read once per batch by callers that clean many events. */
export function cleanEvent(raw: unknown, index = 0, now = Date.now()): CleanResult {
  const parsed = eventSchema.safeParse(raw);
  if (!parsed.success) {
    return {
      ok: false,
      issues: parsed.error.issues.map((issue) => ({
        index,
        path: issue.path.join('.'),
        message: issue.code === 'unrecognized_keys' ? unknownFields(issue.keys) : issue.message,
      })),
    };
  }
  const e = parsed.data;
  const at = Date.parse(e.at);
  if (at > now + MAX_FUTURE_MS || at < EARLIEST_MS) {
    return {
      ok: false,
      issues: [{ index, path: 'at', message: at < EARLIEST_MS ? TOO_EARLY : TOO_FAR_AHEAD }],
    };
  }
  // Every key written, in one order: events of one shape keep the fold's property
  // reads monomorphic (object rest/spread here cost more than the zod check).
  const event: CleanEvent = {
    id: e.id,
    type: e.type,
    accountId: e.accountId,
    at,
    ip: e.ip === undefined ? undefined : canonicalIp(e.ip),
    paymentMethod: e.paymentMethod,
    // A client-side fingerprint wins; otherwise fingerprint the raw text, which is then forgotten.
    promptFingerprint: wordy(
      e.promptFingerprint ?? (e.prompt === undefined ? undefined : simhash(e.prompt)),
    ),
    model: e.model,
    capability: e.capability,
    org: e.org,
    device: e.device,
    emailDomain: e.emailDomain,
  };
  return { ok: true, event };
}

/**
 * SimHash gives every text without a word ("", "!!!", emoji only) the zero fingerprint:
 * kept, it would be one "template" linking unrelated accounts, so it is no fingerprint.
 */
const NO_WORDS = '0000000000000000';
function wordy(fingerprint: string | undefined): string | undefined {
  return fingerprint === NO_WORDS ? undefined : fingerprint;
}

/**
 * Unknown fields by name, each cut to 32 characters: enough for a producer to find the
 * typo, too little for a field name that carries text (a prompt) to be echoed whole.
 */
export function unknownFields(keys: string[]): string {
  const names = keys.map((k) => JSON.stringify(k.length > 32 ? `${k.slice(0, 32)}…` : k));
  return `unknown field${keys.length > 1 ? 's' : ''} ${names.join(', ')} (the event schema allows no others)`;
}

/** All-or-nothing: every event valid, or every issue of every bad event. */
export function cleanBatch(
  raws: unknown[],
): { ok: true; events: CleanEvent[] } | { ok: false; issues: EventIssue[] } {
  const events: CleanEvent[] = [];
  const issues: EventIssue[] = [];
  const now = Date.now();
  raws.forEach((raw, index) => {
    const result = cleanEvent(raw, index, now);
    if (result.ok) events.push(result.event);
    else issues.push(...result.issues);
  });
  return issues.length > 0 ? { ok: false, issues } : { ok: true, events };
}
