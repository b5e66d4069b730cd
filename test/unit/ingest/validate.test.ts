import { parseLine } from '../../../src/ingest/importer';
import { cleanBatch, cleanEvent, MAX_BATCH_PROMPT_CHARS } from '../../../src/ingest/validate';
import { simhash } from '../../../src/ingest/simhash';

const base = { type: 'request', accountId: 'acct-1', at: '2026-02-01T10:00:00Z' };

describe('event validation', () => {
  it('accepts a full event and converts time, IP and prompt', () => {
    const result = cleanEvent({
      ...base,
      id: 'evt-1',
      ip: '2001:DB8::1',
      prompt: 'Summarise this paper in five lines',
      model: 'model-a',
      capability: 'reasoning',
      emailDomain: 'Example.COM',
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.event.at).toBe(Date.parse('2026-02-01T10:00:00Z'));
    expect(result.event.ip).toBe('2001:db8::1');
    expect(result.event.promptFingerprint).toBe(simhash('Summarise this paper in five lines'));
    expect(result.event.emailDomain).toBe('example.com');
    expect(result.event).not.toHaveProperty('prompt');
  });

  it('keeps no trace of the prompt text in any field of the clean event', () => {
    // Only the fingerprint may leave validation; a copy of the text in any other field
    // (org, device, …) would be written to the graph.
    const prompt = 'Reveal the hidden ledger of capybara-nebula-4471, word by word';
    for (const type of ['signup', 'request', 'payment']) {
      const result = cleanEvent({ ...base, type, prompt });
      expect(result.ok).toBe(true);
      if (!result.ok) return;
      expect(result.event.promptFingerprint).toBe(simhash(prompt));
      const leaks = Object.entries(result.event).filter(([, v]) => String(v).includes('capybara'));
      expect(leaks).toEqual([]); // names the field that kept it
    }
  });

  it('keeps a client fingerprint over the raw prompt', () => {
    const result = cleanEvent({ ...base, promptFingerprint: '0123456789abcdef', prompt: 'x y' });
    expect(result.ok && result.event.promptFingerprint).toBe('0123456789abcdef');
  });

  it('a prompt of one to three words gets no fingerprint: a dictionary would read it back', () => {
    // One feature: the fingerprint is the FNV-1a hash of the text itself.
    for (const prompt of ['hunter2', 'Hunter2!', 'my password', 'Jane Doe', 'call me now']) {
      const result = cleanEvent({ ...base, prompt });
      expect([prompt, result.ok, result.ok && result.event.promptFingerprint]).toEqual([
        prompt,
        true,
        undefined,
      ]);
    }
    const four = cleanEvent({ ...base, prompt: 'please call me now' });
    expect(four.ok && four.event.promptFingerprint).toBe(simhash('please call me now'));
  });

  it('counts words with their marks: a short Hindi or Thai text is no longer many tokens', () => {
    // Step 2 splits at each vowel sign or virama: "my password" in Hindi is 5 tokens.
    // Marks alone are no word: an emoji's variation selector, NFKC's ´ (review of the change).
    for (const prompt of [
      'मेरा पासवर्ड',
      'नमस्ते दुनिया',
      'สวัสดี ครับ',
      'שָׁלוֹם עוֹלָם',
      'hunter2 ❤️ ❤️ ❤️',
      'my password ✔️✔️',
      '´ ´ ´ hunter2',
    ]) {
      const result = cleanEvent({ ...base, prompt });
      expect([prompt, result.ok, result.ok && result.event.promptFingerprint]).toEqual([
        prompt,
        true,
        undefined,
      ]);
    }
    // Four such words are kept, with the documented tokens' hash.
    const four = 'मेरा पासवर्ड भूल गया';
    const kept = cleanEvent({ ...base, prompt: four });
    expect(kept.ok && kept.event.promptFingerprint).toBe(simhash(four));
  });

  it('a prompt without a word links nothing: its zero fingerprint would join strangers', () => {
    for (const prompt of ['!!!', ' ', '😀😀', '\u00a0…']) {
      const result = cleanEvent({ ...base, prompt });
      expect([prompt, result.ok && result.event.promptFingerprint]).toEqual([prompt, undefined]);
    }
    const sent = cleanEvent({ ...base, promptFingerprint: '0000000000000000' });
    expect(sent.ok && sent.event.promptFingerprint).toBeUndefined();
    // the event itself stays valid and counts as a request
    expect(sent.ok && sent.event.type).toBe('request');
  });

  it('gives every clean event the same keys in one order, absent fields undefined', () => {
    const keys = (raw: unknown) => {
      const r = cleanEvent(raw);
      if (!r.ok) throw new Error('expected a valid event');
      return Object.keys(r.event);
    };
    const full = keys({ ...base, id: 'e', ip: '10.0.0.1', paymentMethod: 'pm', org: 'o' });
    expect(keys({ ...base, type: 'signup', emailDomain: 'x.org', prompt: 'p' })).toEqual(full);
    const bare = cleanEvent(base);
    expect(bare.ok && bare.event.ip).toBeUndefined();
  });

  it('accepts only canonical dotted quads (no leading zeros), so IPv4 needs no rewriting', () => {
    expect(cleanEvent({ ...base, ip: '010.0.0.1' }).ok).toBe(false);
    const r = cleanEvent({ ...base, ip: '10.0.0.1' });
    expect(r.ok && r.event.ip).toBe('10.0.0.1');
  });

  it.each([
    ['type', { ...base, type: 'login' }],
    ['accountId', { ...base, accountId: 'has space' }],
    ['accountId', { ...base, accountId: 'x'.repeat(129) }],
    ['accountId', { ...base, accountId: '' }],
    ['accountId', { ...base, accountId: '.' }],
    ['accountId', { ...base, accountId: '..' }],
    ['at', { ...base, at: 'yesterday' }],
    ['ip', { ...base, ip: '999.1.1.1' }],
    ['promptFingerprint', { ...base, promptFingerprint: 'ABCDEF0123456789' }],
    ['promptFingerprint', { ...base, promptFingerprint: 'abc' }],
    ['id', { ...base, id: 'i'.repeat(129) }],
    ['', { ...base, surprise: true }],
  ])('rejects a bad %s', (path, event) => {
    const result = cleanEvent(event, 7);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues[0]).toMatchObject({ index: 7, path });
  });

  it('says why "." and ".." are no account ids, and takes other ids with dots', () => {
    for (const accountId of ['.', '..']) {
      const result = cleanEvent({ ...base, accountId });
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.issues[0]?.message).toMatch(/not be "\." or "\.\."/);
    }
    for (const accountId of ['...', '.a', 'a..b', 'a.'])
      expect([accountId, cleanEvent({ ...base, accountId }).ok]).toEqual([accountId, true]);
  });

  it('takes timestamps in the form README gives: seconds, then Z or ±hh:mm', () => {
    for (const at of ['2026-02-01T11:00:00+01:00', '2026-02-01T10:00:00.250Z']) {
      expect([at, cleanEvent({ ...base, at }).ok]).toEqual([at, true]);
    }
    for (const at of ['2026-02-01T10:00Z', '2026-02-01T11:00:00+0100', '2026-02-01T11:00:00+01']) {
      const result = cleanEvent({ ...base, at });
      expect([at, result.ok]).toEqual([at, false]);
      if (!result.ok)
        expect(result.issues[0]?.message).toMatch(/seconds and an offset, Z or ±hh:mm/);
    }
  });

  it('says an offset is needed when a timestamp has none', () => {
    const result = cleanEvent({ ...base, at: '2026-02-01T10:00:00' });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues[0]?.message).toMatch(/and an offset/);
  });

  it('names an unknown field, cut to 32 characters', () => {
    const long = `f${'x'.repeat(100)}`;
    const result = cleanEvent({ ...base, emial: 'a', [long]: 1 });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues[0]?.message).toContain('"emial"');
    expect(result.issues[0]?.message).toContain(`"${long.slice(0, 32)}…"`);
    expect(result.issues[0]?.message).not.toContain(long.slice(0, 33));
  });

  it('names at most 20 unknown fields and counts the rest (review, 12-06)', () => {
    // 4,000 keys of another schema made an 80 KB message: a reject entry a resume could
    // not read back as one.
    const wide = Object.fromEntries(
      Array.from({ length: 4000 }, (_, i) => [`feature_${String(i).padStart(6, '0')}`, 0]),
    );
    const result = cleanEvent({ ...base, ...wide });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const message = result.issues[0]?.message ?? '';
    expect(message).toContain('"feature_000019" and 3980 more (the event schema allows no others)');
    expect(message).not.toContain('feature_000020');
    expect(message.length).toBeLessThan(800);
  });

  it('rejects a missing required field with its path', () => {
    const result = cleanEvent({ type: 'signup', at: base.at });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues.map((i) => i.path)).toEqual(['accountId']);
  });

  it('checks an email domain within 253 characters once lower-cased (review, 12-05)', () => {
    // 'İ' lower-cases to two code units: 200 of them passed and were stored as 400.
    const domain = (emailDomain: string) => cleanEvent({ ...base, type: 'signup', emailDomain });
    const long = domain('İ'.repeat(127));
    expect(long.ok).toBe(false);
    if (!long.ok) expect(long.issues.map((i) => i.path)).toEqual(['emailDomain']);
    const fits = domain('İ'.repeat(126));
    expect(fits.ok && fits.event.emailDomain?.length).toBe(252);
  });

  it('stores an email domain in one spelling, and refuses an address or only dots', () => {
    // Review, 12-05: 'gmail.com.', ' gmail.com' or a fullwidth 'ｇｍａｉｌ.com' stored as sent
    // was a rare domain of its own, linking its accounts and reading as a corporate domain;
    // a whole address was stored as a "domain", one node per person.
    const domain = (emailDomain: string) => cleanEvent({ ...base, type: 'signup', emailDomain });
    const stored = (emailDomain: string) => {
      const r = domain(emailDomain);
      return r.ok ? r.event.emailDomain : r.issues.map((i) => i.path);
    };
    expect(stored('Gmail.COM.')).toBe('gmail.com');
    expect(stored(' gmail.com ')).toBe('gmail.com');
    expect(stored('ｇｍａｉｌ.com')).toBe('gmail.com');
    expect(stored('bu\u0308cher.de')).toBe('b\u00fccher.de');
    // the ideographic full stops IDNA reads as dots, which NFKC leaves (a second review)
    for (const dotted of ['gmail\u3002com', 'gmail\uff61com', 'GMAIL\u3002COM\u3002'])
      expect([dotted, stored(dotted)]).toEqual([dotted, 'gmail.com']);
    // dots at the start or doubled, and characters IDNA ignores (a third review, 12-06)
    for (const odd of [
      '.gmail.com',
      'gmail..com',
      'gmail.com\u200b',
      'gm\u00adail.com',
      'gmail.com\ufe0f',
      'gm\u034fail.com',
      'gmail.com\u{e0100}',
      'gmai\u00adl.com',
    ])
      expect([odd, stored(odd)]).toEqual([odd, 'gmail.com']);
    // an ignored character between a letter and its accent: composed all the same
    expect(stored('e\u00ad\u0301xample.com')).toBe('\u00e9xample.com');
    // a capital that NFKC leaves apart from its accent is composed once lower-cased
    expect(stored('J\u030c.com')).toBe(stored('\u01f0.com'));
    for (const refused of ['..', '.', 'jane.doe@example.com', 'example .com', ' '])
      expect(stored(refused)).toEqual(['emailDomain']);
  });

  it('rejects text with a lone surrogate, which Neo4j would store as U+FFFD', () => {
    const lone = '\ud800';
    const fields = ['id', 'paymentMethod', 'device', 'org', 'emailDomain', 'model', 'capability'];
    for (const field of fields) {
      const result = cleanEvent({ ...base, [field]: `x${lone}y` });
      expect([field, result.ok]).toEqual([field, false]);
      if (!result.ok) {
        expect(result.issues).toEqual([
          { index: 0, path: field, message: 'must be valid Unicode (a lone surrogate is not)' },
        ]);
      }
    }
    // a pair (an astral character) is fine
    const ok = cleanEvent({ ...base, id: 'evt-\ud83d\ude00', org: 'org-\ud83d\ude00' });
    expect(ok.ok).toBe(true);
  });

  it('rejects a whole batch, listing every bad event by index', () => {
    const result = cleanBatch([
      base,
      { ...base, at: 'nope' },
      base,
      { ...base, type: 'x', ip: 'y' },
    ]);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => [i.index, i.path]).sort()).toEqual([
      [1, 'at'],
      [3, 'ip'],
      [3, 'type'],
    ]);
  });

  it('rejects an event dated before 2000: a zero or broken timestamp, not history', () => {
    for (const at of ['1970-01-01T00:00:00Z', '0001-01-01T00:00:00Z', '1999-12-31T23:59:59Z']) {
      expect([at, cleanEvent({ ...base, at }, 2)]).toEqual([
        at,
        {
          ok: false,
          issues: [
            {
              index: 2,
              path: 'at',
              message: 'is before 2000-01-01T00:00:00Z (a clock or timestamp error)',
            },
          ],
        },
      ]);
    }
    expect(cleanEvent({ ...base, at: '2000-01-01T00:00:00Z' }).ok).toBe(true);
    expect(cleanEvent({ ...base, at: '2000-01-01T01:00:00+01:00' }).ok).toBe(true);
  });

  it('rejects an event dated more than 24 hours ahead of the server clock', () => {
    const now = Date.parse('2026-02-01T10:00:00Z');
    const ahead = (hours: number) => ({
      ...base,
      at: new Date(now + hours * 3_600_000).toISOString(),
    });
    expect(cleanEvent(ahead(23.9), 0, now).ok).toBe(true);
    expect(cleanEvent(ahead(24), 0, now).ok).toBe(true);
    const late = cleanEvent(ahead(24.1), 3, now);
    expect(late).toEqual({
      ok: false,
      issues: [
        { index: 3, path: 'at', message: 'is more than 24 hours ahead of the server clock' },
      ],
    });
    // Far in the past is history, not skew: accepted.
    expect(cleanEvent({ ...base, at: '2001-01-01T00:00:00Z' }, 0, now).ok).toBe(true);
    // The real clock by default, for batches and import lines too.
    const nextYear = { ...base, at: new Date(Date.now() + 365 * 86_400_000).toISOString() };
    expect(cleanBatch([base, nextYear])).toMatchObject({
      ok: false,
      issues: [{ index: 1, path: 'at' }],
    });
    expect(parseLine(JSON.stringify(nextYear), 9)).toMatchObject({
      line: 9,
      reason: 'invalid event',
      issues: [{ path: 'at' }],
    });
  });

  it('accepts a valid batch whole', () => {
    const result = cleanBatch([base, { ...base, type: 'signup' }]);
    expect(result.ok && result.events.length).toBe(2);
  });
});

describe('a line of an import file', () => {
  it('rejected as invalid JSON without quoting any of it (it may hold a prompt)', () => {
    const lines = [
      '{"type": "request", "accountId": "a", "prompt": secret words of the prompt}',
      '{"type": "request", "prompt": "secret words of the prompt"',
      '{"prompt": "secret words of the prompt"} secret',
    ];
    const reasons = lines.map((line, i) => parseLine(line, i + 1));
    expect(reasons).toEqual([
      { line: 1, reason: 'invalid JSON' },
      { line: 2, reason: 'invalid JSON at position 58' },
      { line: 3, reason: 'invalid JSON at position 41' },
    ]);
    expect(JSON.stringify(reasons)).not.toMatch(/secret/);
  });
});

describe('prompts without a word', () => {
  it('an empty prompt is no fingerprint, as "!!!" is, and does not reject its batch', () => {
    // Found by review on 12-02: "" failed the schema (and so its whole batch) while
    // "   " and "!!!" passed without a fingerprint.
    for (const prompt of ['', '   ', '!!!']) {
      const result = cleanEvent({ ...base, prompt });
      expect([prompt, result.ok]).toEqual([prompt, true]);
      if (result.ok) expect(result.event.promptFingerprint).toBeUndefined();
    }
    const withFingerprint = cleanEvent({
      ...base,
      prompt: '',
      promptFingerprint: '0123456789abcdef',
    });
    expect(withFingerprint).toMatchObject({
      ok: true,
      event: { promptFingerprint: '0123456789abcdef' },
    });
  });
});

describe("a batch's budget of normalised prompt text", () => {
  // U+FDFA is one character that NFKC makes 18: 700,000 of them (2 MiB of UTF-8, well
  // within a body) become 12.6 M characters to tokenise and hash. Found by review on
  // 12-02: three such prompts held the event loop for 3-4 s.
  const expanding = '\ufdfa'.repeat(700_000);

  it('refuses prompts past it after normalising, and fingerprints nothing more', () => {
    const result = cleanBatch([
      { ...base, prompt: 'a short prompt' },
      { ...base, prompt: expanding },
      { ...base, prompt: 'another short one' },
      { ...base, promptFingerprint: '0123456789abcdef' },
    ]);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => [i.index, i.path])).toEqual([
      [1, 'prompt'],
      [2, 'prompt'],
    ]);
    expect(result.issues[0]?.message).toMatch(/after Unicode NFKC normalisation/);
  });

  it('takes exactly the budget, more than a 10 MiB body of ordinary text can hold', () => {
    // 12 prompts of 1 M characters, the schema's most
    const prompt = 'x'.repeat(1_000_000);
    const events = Array.from({ length: 12 }, () => ({ ...base, prompt }));
    expect(12 * prompt.length).toBe(MAX_BATCH_PROMPT_CHARS);
    expect(cleanBatch(events).ok).toBe(true);
    expect(cleanBatch([...events, { ...base, prompt: 'x' }]).ok).toBe(false);
  });

  it("is a REST batch's alone: an event cleaned without one (the importer) has no bound", () => {
    const event = { ...base, prompt: 'ﬁve ligatures' }; // 13 characters, 14 after NFKC (ﬁ is fi)
    expect(cleanEvent(event, 0, Date.now(), { left: 14 }).ok).toBe(true);
    expect(cleanEvent(event, 0, Date.now(), { left: 13 })).toMatchObject({
      ok: false,
      issues: [{ index: 0, path: 'prompt' }],
    });
    expect(cleanEvent(event).ok).toBe(true);
  });
});
