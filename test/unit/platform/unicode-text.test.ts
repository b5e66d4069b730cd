import { normaliseValue } from '../../../src/linkage/allowlist';
import { entryBody, entryKeyInput } from '../../../src/linkage/schemas';
import { NOT_UNICODE, isWellFormed } from '../../../src/platform/unicode-text';
import { verdictRequestSchema } from '../../../src/verdicts/schemas';

// Found by review on 12-04: ingest refused lone surrogates, the admin inputs did not, so an
// allow-list entry was stored as U+FFFD, another value than the one typed.
const lone = 'acme\ud800';
const messages = (r: { success: boolean; error?: { issues: { message: string }[] } }) =>
  r.error?.issues.map((i) => i.message) ?? [];

describe('text Neo4j stores as sent', () => {
  it('is any text without a lone surrogate; a pair is one character', () => {
    expect(isWellFormed('Zürich 😀')).toBe(true);
    expect(isWellFormed(lone)).toBe(false);
    expect(isWellFormed('\udc00x')).toBe(false);
  });

  it('is required of allow-list values and notes, and verdict notes', () => {
    expect(entryBody.safeParse({ kind: 'org', value: 'acme' }).success).toBe(true);
    expect(messages(entryBody.safeParse({ kind: 'org', value: lone }))).toEqual([NOT_UNICODE]);
    expect(messages(entryBody.safeParse({ kind: 'org', value: 'acme', note: `n${lone}` }))).toEqual(
      [NOT_UNICODE],
    );
    expect(entryBody.safeParse({ kind: 'org', value: 'acme', note: '' }).success).toBe(true);
    expect(messages(entryKeyInput.safeParse({ kind: 'device', value: lone }))).toEqual([
      NOT_UNICODE,
    ]);
    expect(verdictRequestSchema.safeParse({ verdict: 'benign', note: 'ok' }).success).toBe(true);
    expect(messages(verdictRequestSchema.safeParse({ verdict: 'benign', note: lone }))).toEqual([
      NOT_UNICODE,
    ]);
  });

  it('is required of allow-list entries from config, of every kind kept as sent', () => {
    for (const kind of ['payment', 'device', 'org', 'email_domain'] as const) {
      expect(normaliseValue(kind, lone)).toEqual({ error: NOT_UNICODE });
      expect(normaliseValue(kind, 'acme')).toBe('acme');
    }
  });
});
