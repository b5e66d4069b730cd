/**
 * The public event contract (DESIGN.md "Events"), shared by POST /v1/events and
 * the bulk importer. Raw `prompt` text is accepted here only so it can be
 * fingerprinted on arrival; it never leaves src/ingest.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { unicodeText } from '../platform/unicode-text';

/** Text of at most `max` characters with no lone surrogate (see unicode-text.ts). */
function text(max: number) {
  return unicodeText(1, max);
}

const identifier = text(256);

/**
 * An account id as events carry it and the graph stores it (case-sensitive, as sent).
 * Not `.` or `..`: URL clients (fetch, browsers) resolve those path segments, encoded or
 * not, so /v1/accounts/../cluster would reach another route, or another account.
 */
export const accountIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.:@-]+$/, 'must be 1-128 chars of [A-Za-z0-9_.:@-]')
  .refine(
    (v) => v !== '.' && v !== '..',
    'must not be "." or "..": a URL cannot name them (clients resolve them as path steps)',
  )
  .describe('1-128 chars of [A-Za-z0-9_.:@-], not "." or ".." (a URL cannot name those)');

/** A model name as events carry it and the graph stores it. */
export const modelSchema = text(128);

/**
 * How far ahead of this server's clock an event may be dated (checked in validate.ts,
 * against the clock at arrival). Producers' clocks drift a little; an event dated years
 * ahead would pin its account's last-seen time (a maximum) there for good, and stored
 * events are never rewritten.
 */
export const MAX_FUTURE_HOURS = 24;

/**
 * The earliest `at` accepted. An event dated before it is a producer's clock or parser
 * gone wrong (1970-01-01 is a zero timestamp), and it would pin its account's first-seen
 * time (a minimum) there for good.
 */
export const EARLIEST_AT = '2000-01-01T00:00:00Z';

export const eventSchema = z
  .object({
    id: text(128).optional(),
    type: z.enum(['signup', 'request', 'payment']),
    accountId: accountIdSchema,
    at: z.iso
      .datetime({
        offset: true,
        error:
          'must be an ISO-8601 date-time with seconds and an offset, Z or ±hh:mm, e.g. 2026-02-01T10:00:00Z',
      })
      .describe(
        `ISO-8601 with seconds and an offset, Z or ±hh:mm; not before ${EARLIEST_AT}, at most ${MAX_FUTURE_HOURS} hours ahead of the server clock`,
      ),
    ip: z
      .string()
      .refine((v) => isIP(v) !== 0, 'must be an IPv4 or IPv6 address')
      .optional(),
    paymentMethod: identifier.optional(),
    promptFingerprint: z
      .string()
      .regex(/^[0-9a-f]{16}$/, 'must be 16 lowercase hex characters')
      .optional(),
    // Empty is allowed: like a text without a word, it gets no fingerprint.
    prompt: z.string().max(1_000_000).optional(),
    model: modelSchema.optional(),
    capability: text(64).optional(),
    org: identifier.optional(),
    device: identifier.optional(),
    // Stored canonical (canonicalDomain), its length checked again then: lower-casing can
    // lengthen it ('İ' is two code units lower-cased; review, 12-05).
    emailDomain: text(253)
      .superRefine((v, ctx) => {
        const domain = parseDomain(v);
        if (typeof domain !== 'string') ctx.addIssue({ code: 'custom', message: domain.error });
      })
      .optional(),
  })
  .strict();

/**
 * An e-mail domain as the graph stores it: without surrounding spaces, NFKC-normalised
 * (a fullwidth 'ｇｍａｉｌ.com' and a decomposed 'ü' are the plain forms), without the
 * invisible characters IDNA maps to nothing (a zero-width space, a soft hyphen), lower-cased,
 * with the ideographic full stops IDNA reads as dots made dots ('gmail。com' is
 * gmail.com, which NFKC leaves alone), a run of dots one dot, and without dots at either
 * end ('gmail.com.', the DNS root's dot, '.gmail.com' and 'gmail..com' are gmail.com).
 * Each spelling kept apart would be a rare domain of its own, and a corporate-looking one
 * (reviews, 12-05 and 12-06).
 */
export function canonicalDomain(domain: string): string {
  return (
    domain
      .trim()
      // before NFKC, as UTS 46: one between a letter and its accent would keep them apart
      .replace(IDNA_IGNORED, '')
      .normalize('NFKC')
      .replace(IDNA_DOTS, '.')
      .toLowerCase()
      // lower-casing can make a pair NFKC left apart composable ('J' + caron is 'ǰ')
      .normalize('NFC')
      .replace(/\.{2,}/g, '.')
      .replace(/^\.|\.$/g, '')
  );
}

/** U+3002 and U+FF61 (NFKC's form of it); U+FF0E is made '.' by NFKC already. */
const IDNA_DOTS = /[\u3002\uFF61\uFF0E]/g;
/**
 * What UTS 46 maps to nothing: soft hyphen, combining grapheme joiner, Mongolian free
 * variation selectors, zero-width space, word joiner, invisible plus, variation
 * selectors, zero-width no-break space, shorthand format controls (as Node's
 * url.domainToASCII drops them; ZWJ and ZWNJ are kept, as IDNA 2008 keeps them).
 */
// Each is matched as a code point of its own, joined to nothing: the rule's worry is a
// combining mark meant to join the character before it in the class.
/* eslint-disable no-misleading-character-class */
const IDNA_IGNORED =
  /[\u00AD\u034F\u180B-\u180D\u180F\u200B\u2060\u2064\uFE00-\uFE0F\uFEFF\u{1BCA0}-\u{1BCA3}\u{E0100}-\u{E01EF}]/gu;
/* eslint-enable no-misleading-character-class */

/**
 * An e-mail domain in its canonical form, or why it is none: a whole address (`@`), a
 * space inside, only dots, or past 253 characters once normalised. The event schema and
 * the allow-list (which lists what ingest stores) both read domains through it.
 */
export function parseDomain(raw: string): string | { error: string } {
  const domain = canonicalDomain(raw);
  if (domain === '' || /[@\s]/.test(domain)) {
    return { error: 'must be a domain, e.g. example.com: no "@" or spaces, not only dots' };
  }
  return domain.length <= 253 ? domain : { error: 'must be 1-253 characters' };
}

/** An event as a client sends it. */
export type Event = z.infer<typeof eventSchema>;

/** An event after fingerprinting: no raw prompt, `at` as epoch milliseconds. */
export interface CleanEvent extends Omit<Event, 'prompt' | 'at'> {
  at: number;
}

export const batchSchema = z.object({ events: z.array(z.unknown()) }).strict();

/** An Idempotency-Key header: 1 to 255 visible ASCII characters (two headers joined are refused). */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export interface EventIssue {
  index: number;
  path: string;
  message: string;
}
