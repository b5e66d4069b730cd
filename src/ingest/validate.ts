/**
 * Validation and cleaning of incoming events: zod checks against the public
 * contract, raw prompts turned into SimHash fingerprints (and dropped), IPs in
 * canonical form, timestamps as epoch milliseconds. Shared by REST and import.
 */
import {
  type CleanEvent,
  EARLIEST_AT,
  canonicalDomain,
  type EventIssue,
  MAX_FUTURE_HOURS,
  eventSchema,
} from './event-schema';
import { clientName } from '../platform/client-name';
import { normalise, promptFingerprintNormal } from './simhash';
import { canonicalIp } from './subnet';

const MAX_FUTURE_MS = MAX_FUTURE_HOURS * 3_600_000;
const TOO_FAR_AHEAD = `is more than ${MAX_FUTURE_HOURS} hours ahead of the server clock`;
const EARLIEST_MS = Date.parse(EARLIEST_AT);
const TOO_EARLY = `is before ${EARLIEST_AT} (a clock or timestamp error)`;

export type CleanResult = { ok: true; event: CleanEvent } | { ok: false; issues: EventIssue[] };

/**
 * Characters of normalised prompt text (NFKC, the fingerprint's step 1) one REST batch may
 * fingerprint. A 10 MiB body of ordinary text holds at most ~10.5 M; NFKC makes some
 * characters 18 (U+FDFA), so without a bound one body took 2.5 s of the event loop.
 */
export const MAX_BATCH_PROMPT_CHARS = 12_000_000;

/** What is left of a batch's budget of normalised prompt characters. */
export interface PromptBudget {
  left: number;
}

const overBudget = (index: number): EventIssue => ({
  index,
  path: 'prompt',
  message:
    `the batch's prompts pass ${MAX_BATCH_PROMPT_CHARS.toLocaleString('en')} characters after ` +
    'Unicode NFKC normalisation; send fewer prompts per batch, or promptFingerprint',
});

/**
 * `now`: the server's clock, read once per batch by callers that clean many events;
 * `budget`: the batch's budget of normalised prompt characters (REST; none for import).
 */
export function cleanEvent(
  raw: unknown,
  index = 0,
  now = Date.now(),
  budget?: PromptBudget,
): CleanResult {
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
  // A client-side fingerprint wins; otherwise fingerprint the raw text, which is then
  // forgotten (within the batch's budget, checked before the costly part).
  let fingerprint = e.promptFingerprint;
  if (fingerprint === undefined && e.prompt !== undefined) {
    if (budget !== undefined && budget.left < 0) return { ok: false, issues: [overBudget(index)] };
    const normal = normalise(e.prompt);
    if (budget !== undefined) {
      budget.left -= normal.length;
      if (budget.left < 0) return { ok: false, issues: [overBudget(index)] };
    }
    fingerprint = promptFingerprintNormal(normal);
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
    promptFingerprint: wordy(fingerprint),
    model: e.model,
    capability: e.capability,
    org: e.org,
    device: e.device,
    emailDomain: e.emailDomain === undefined ? undefined : canonicalDomain(e.emailDomain),
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

/** Names an unknown-field message lists; the rest are counted. */
export const UNKNOWN_FIELDS_NAMED = 20;

/**
 * Unknown fields by name, each cut to 32 characters: enough for a producer to find the
 * typo, too little for a field name that carries text (a prompt) to be echoed whole.
 * At most UNKNOWN_FIELDS_NAMED of them: a record of another schema with thousands of
 * keys made a reject entry longer than the line, past what a resume reads back (review,
 * 12-06), and echoed most of the line's text.
 */
export function unknownFields(keys: string[], schema = 'the event schema'): string {
  const names = keys.slice(0, UNKNOWN_FIELDS_NAMED).map((k) => JSON.stringify(clientName(k)));
  const more = keys.length - names.length;
  return `unknown field${keys.length > 1 ? 's' : ''} ${names.join(', ')}${
    more > 0 ? ` and ${more} more` : ''
  } (${schema} allows no others)`;
}

/** All-or-nothing: every event valid, or every issue of every bad event. */
export function cleanBatch(
  raws: unknown[],
): { ok: true; events: CleanEvent[] } | { ok: false; issues: EventIssue[] } {
  const events: CleanEvent[] = [];
  const issues: EventIssue[] = [];
  const now = Date.now();
  const budget: PromptBudget = { left: MAX_BATCH_PROMPT_CHARS };
  raws.forEach((raw, index) => {
    const result = cleanEvent(raw, index, now, budget);
    if (result.ok) events.push(result.event);
    else issues.push(...result.issues);
  });
  return issues.length > 0 ? { ok: false, issues } : { ok: true, events };
}
