/** openLines: the lines of a file or .gz, and read errors that name the file and the line. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { openLines } from '../../../src/ingest/importer';
import { readHead } from '../../../src/ingest/import-identity';

const dir = mkdtempSync(path.join(tmpdir(), 'coterie-open-lines-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every line, or the error the loop threw (as the importer's loop sees it). */
async function readAll(
  file: string,
  range?: { start: number; end?: number },
): Promise<{ lines: string[]; error?: string; endsWithNewline: boolean }> {
  const { lines, close, endsWithNewline } = openLines(file, () => undefined, range);
  const out: string[] = [];
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
    const file = path.join(dir, 'missing.jsonl.gz');
    expect(await readAll(file)).toMatchObject({
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

  it('a plain file named .gz says so', async () => {
    const file = path.join(dir, 'plain.jsonl.gz');
    writeFileSync(file, `${text.slice(0, 3).join('\n')}\n`);
    expect((await readAll(file)).error).toMatch(
      /^reading .*plain\.jsonl\.gz \(gzip\) after line 0 .*: incorrect header check$/,
    );
    await expect(readHead(file)).rejects.toThrow(
      `reading the first line of ${file} (gzip): incorrect header check`,
    );
    await expect(readHead(path.join(dir, 'gone.gz'))).rejects.toThrow(
      /^reading the first line of .*gone\.gz \(gzip\): ENOENT/,
    );
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
