/**
 * openLines: the lines of a file or .gz (as readline read them), a line too long to read
 * given by its length alone, and read errors that name the file and the line.
 */
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip, gzipSync } from 'node:zlib';
import {
  MAX_LINE_BYTES,
  openLines,
  type OverlongLine,
  parseLine,
} from '../../../src/ingest/importer';
import { readHead } from '../../../src/ingest/import-identity';
import { Rng } from '../../../src/simulate/rng';

const dir = mkdtempSync(path.join(tmpdir(), 'coterie-open-lines-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every line, or the error the loop threw (as the importer's loop sees it). */
async function readAll(
  file: string,
  range?: { start: number; end?: number },
  opts?: { maxLineBytes?: number; gz?: boolean },
): Promise<{ lines: (string | OverlongLine)[]; error?: string; endsWithNewline: boolean }> {
  const { lines, close, endsWithNewline } = openLines(file, () => undefined, range, opts);
  const out: (string | OverlongLine)[] = [];
  try {
    for await (const line of lines) out.push(line);
    return { lines: out, endsWithNewline: endsWithNewline() };
  } catch (err) {
    return { lines: out, error: (err as Error).message, endsWithNewline: endsWithNewline() };
  } finally {
    close();
  }
}

describe('openLines read errors', () => {
  const text = Array.from(
    { length: 5000 },
    (_, i) => `{"n": ${i}, "pad": "${'x'.repeat(i % 50)}"}`,
  );

  it('a missing .gz is thrown into the loop, not an uncaught error event (a crash)', async () => {
    // Found by review on 12-03: raw.pipe(gunzip) did not pass the file's errors on.
    // Gzip, as the importer found it when it began (a file gone since has no bytes to tell).
    const file = path.join(dir, 'missing.jsonl.gz');
    expect(await readAll(file, undefined, { gz: true })).toMatchObject({
      lines: [],
      error: `reading ${file} (gzip) after line 0 (0 compressed bytes read): ENOENT: no such file or directory, open '${file}'`,
    });
    const plain = path.join(dir, 'missing.jsonl');
    expect((await readAll(plain)).error).toBe(
      `reading ${plain} after line 0 (0 bytes read): ENOENT: no such file or directory, open '${plain}'`,
    );
  });

  it('a .gz cut short names the file and the line it came after', async () => {
    const file = path.join(dir, 'cut.jsonl.gz');
    const whole = gzipSync(`${text.join('\n')}\n`);
    writeFileSync(file, whole.subarray(0, Math.floor(whole.length / 2)));
    const { lines, error } = await readAll(file);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines).toEqual(text.slice(0, lines.length));
    expect(error).toMatch(
      new RegExp(
        `^reading ${file} \\(gzip\\) after line ${lines.length} \\(\\d+ compressed bytes read\\): unexpected end of file$`,
      ),
    );
  });

  it('a .gz with bytes after its gzip data is refused, not read to its first zero byte (review, 12-07)', async () => {
    // Node's gunzip ends at a member followed by a zero byte and dropped the rest without
    // an error: 10 of 30 lines read, and the import marked complete.
    const member = (from: number, to: number) => gzipSync(`${text.slice(from, to).join('\n')}\n`);
    const third = Math.floor(text.length / 3);
    const whole = path.join(dir, 'members.jsonl.gz');
    writeFileSync(
      whole,
      Buffer.concat([member(0, third), member(third, 2 * third), member(2 * third, text.length)]),
    );
    expect(await readAll(whole)).toEqual({ lines: text, endsWithNewline: true });
    for (const [name, tail] of [
      ['zeros-then-members', Buffer.concat([Buffer.alloc(4096), member(third, text.length)])],
      ['zero-padding', Buffer.alloc(100)],
    ] as const) {
      const file = path.join(dir, `${name}.jsonl.gz`);
      const first = member(0, third);
      writeFileSync(file, Buffer.concat([first, tail]));
      const { lines, error } = await readAll(file);
      expect([name, lines]).toEqual([name, text.slice(0, third)]);
      expect([name, error]).toEqual([
        name,
        `reading ${file} (gzip) after line ${third} (${first.length + tail.length} compressed bytes read): ` +
          `${tail.length} bytes after the end of its gzip data, at byte ${first.length} ` +
          '(`gzip -t` says trailing garbage): the lines they hold are not read; ' +
          'recompress what `gzip -dc` gives to import them',
      ]);
    }
  });

  it("knows gzip by its first bytes: a text file named .gz is text, gzip's bytes without gzip say so", async () => {
    // Until 12-05 by a lower-case `.gz` name: this text file failed with 'incorrect header check'.
    const plain = path.join(dir, 'plain.jsonl.gz');
    writeFileSync(plain, `${text.slice(0, 3).join('\n')}\n`);
    expect(await readAll(plain)).toEqual({ lines: text.slice(0, 3), endsWithNewline: true });
    const file = path.join(dir, 'not-gzip-after-all');
    writeFileSync(file, Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.from(text[0] as string)]));
    expect((await readAll(file)).error).toMatch(
      /^reading .*not-gzip-after-all \(gzip\) after line 0 .*: unknown compression method$/,
    );
    await expect(readHead(file)).rejects.toThrow(
      `reading the first line of ${file} (gzip): unknown compression method`,
    );
    await expect(readHead(path.join(dir, 'gone.gz'))).rejects.toThrow(
      /^reading the first line of .*gone\.gz: ENOENT/,
    );
  });

  it('a .gz ending with a lone CR ends its last line, so gzip appended to it may continue it', async () => {
    // Review, 12-06: the import said its last line had no line break and refused the append.
    const file = path.join(dir, 'cr.jsonl.gz');
    writeFileSync(file, gzipSync(`${text.slice(0, 2).join('\r')}\r`));
    expect(await readAll(file)).toEqual({ lines: text.slice(0, 2), endsWithNewline: true });
    writeFileSync(file, gzipSync(text.slice(0, 2).join('\r')));
    expect(await readAll(file)).toEqual({ lines: text.slice(0, 2), endsWithNewline: false });
  });

  it('reads a whole .gz, and stops early without an error', async () => {
    const file = path.join(dir, 'whole.jsonl.gz');
    writeFileSync(file, gzipSync(`${text.join('\n')}\n`));
    expect(await readAll(file)).toEqual({ lines: text, endsWithNewline: true });
    const { lines, close } = openLines(file, () => undefined);
    let n = 0;
    for await (const _ of lines) if (++n === 3) break;
    close();
    await new Promise((resolve) => setTimeout(resolve, 100)); // an error event would come now
    expect(n).toBe(3);
  });
});

/** What readline (crlfDelay: Infinity) gave for the same file: the lines openLines replaced it with. */
async function byReadline(file: string): Promise<string[]> {
  const input = file.endsWith('.gz')
    ? createReadStream(file).pipe(createGunzip())
    : createReadStream(file);
  const out: string[] = [];
  for await (const line of createInterface({ input, crlfDelay: Infinity })) out.push(line);
  return out;
}

describe('openLines line ends', () => {
  // Lines across the 64 KiB reads of a plain file and the 16 KiB chunks of gunzip: every
  // kind of line end, empty lines, multi-byte characters, a CRLF split between chunks.
  const rng = new Rng(5);
  const ends = ['\n', '\r\n', '\r', '\n\n', '\r\r\n'];
  let text = '';
  for (let i = 0; text.length < 400_000; i++) {
    const body = rng.int(20) === 0 ? '' : `{"n": ${i}, "é€😀": "${'x'.repeat(rng.int(300))}"}`;
    text += body + (ends[rng.int(ends.length)] as string);
  }
  // a CRLF across the first 64 KiB boundary, a 4-byte character across the second
  const bytes = Buffer.from(text, 'utf8');
  bytes.write('ab\r\n', 65_536 - 3, 'latin1');
  const split = Buffer.concat([
    bytes.subarray(0, 2 * 65_536 - 2),
    Buffer.from('😀'),
    bytes.subarray(2 * 65_536 - 2),
  ]);

  it.each([
    ['ending with a line break', split],
    ['ending in a line without one', Buffer.concat([split, Buffer.from('{"last": true}')])],
    ['ending in CR', Buffer.concat([split, Buffer.from('last\r')])],
    ['empty', Buffer.alloc(0)],
    ['one line break', Buffer.from('\n')],
  ])('reads the lines readline did, %s, plain and gzipped', async (_, content) => {
    const plain = path.join(dir, 'ends.jsonl');
    writeFileSync(plain, content);
    const gz = path.join(dir, 'ends.jsonl.gz');
    writeFileSync(gz, gzipSync(content));
    for (const file of [plain, gz]) {
      const { lines, error, endsWithNewline } = await readAll(file);
      expect(error).toBeUndefined();
      expect(lines).toEqual(await byReadline(file));
      // an LF or a lone CR (review, 12-06) ends the last line
      const lastByte = content[content.length - 1];
      expect(endsWithNewline).toBe(content.length === 0 || lastByte === 10 || lastByte === 13);
    }
  });
});

describe('openLines line length', () => {
  it('gives a line longer than the limit as its length alone, and reads on', async () => {
    // Found by review on 12-03: a file that is one 3.3 GB JSON array ended in an uncaught
    // `RangeError: Invalid string length` inside readline. Here with a limit of 100 bytes.
    const file = path.join(dir, 'long.jsonl');
    const at100 = `"${'a'.repeat(98)}"`;
    const long = 'b'.repeat(200_000); // across reads of the file
    writeFileSync(
      file,
      ['one', at100, `${at100}c`, long, 'after', '', `${long}\r`, 'end', long].join('\n'),
    );
    const { lines, error } = await readAll(file, undefined, { maxLineBytes: 100 });
    expect(error).toBeUndefined();
    expect(lines).toEqual([
      'one',
      at100,
      { overlong: 101, max: 100 },
      { overlong: 200_000, max: 100 },
      'after',
      '',
      { overlong: 200_000, max: 100 },
      'end',
      { overlong: 200_000, max: 100 },
    ]);
    // and as a reject entry, with its line number
    expect(parseLine({ overlong: 200_000, max: 100 }, 4)).toEqual({
      line: 4,
      reason:
        'line of 200000 bytes, longer than the 100 a line may have (not one JSON event per line?)',
    });
  });

  it('is far above the longest valid event', () => {
    // A 1,000,000-character prompt (the schema's most) of characters JSON escapes as \uXXXX.
    const event = {
      type: 'request',
      accountId: 'a'.repeat(128),
      at: '2026-02-01T00:00:00.000+00:00',
      prompt: '\u0001'.repeat(1_000_000),
    };
    const line = JSON.stringify(event);
    expect(Buffer.byteLength(line)).toBeLessThan(MAX_LINE_BYTES / 2);
    expect(MAX_LINE_BYTES).toBeGreaterThan(10 * 2 ** 20); // INGEST_MAX_BODY_BYTES' default
  });
});

describe('openLines byte-order mark', () => {
  it('skips a UTF-8 BOM that begins the text, plain or gzipped, and no other', async () => {
    // Found by review on 12-03: the first event of a file saved with a BOM was
    // rejected as invalid JSON.
    const event = JSON.stringify({ type: 'request', accountId: 'a', at: '2026-02-01T00:00:00Z' });
    const text = `\uFEFF${event}\n\uFEFF${event}\n`;
    const plain = path.join(dir, 'bom.jsonl');
    writeFileSync(plain, text);
    const gz = path.join(dir, 'bom.jsonl.gz');
    writeFileSync(gz, gzipSync(text));
    for (const file of [plain, gz]) {
      const { lines } = await readAll(file);
      expect(lines).toEqual([event, `\uFEFF${event}`]);
      expect(parseLine(lines[0] as string, 1)).toMatchObject({ accountId: 'a' });
    }
    // a range that starts inside the file begins no text
    const second = Buffer.byteLength(`\uFEFF${event}\n`);
    expect((await readAll(plain, { start: second })).lines).toEqual([`\uFEFF${event}`]);
    // a first line longer than a read (the BOM in an earlier chunk than its end)
    const long = `\uFEFF{"type":"request","accountId":"a","at":"2026-02-01T00:00:00Z","prompt":"${'p'.repeat(100_000)}"}`;
    writeFileSync(plain, `${long}\n`);
    expect((await readAll(plain)).lines).toEqual([long.slice(1)]);
  });
});
