import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { keepRejectsUpTo } from '../../../src/ingest/importer';

describe('reject entries kept on resume', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'coterie-rejects-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const entry = (line: number) => `${JSON.stringify({ line, reason: 'invalid JSON' })}\n`;

  it('cuts the file after the last entry up to the checkpoint, a torn one included', async () => {
    const file = path.join(dir, 'a.rejects.jsonl');
    const whole = [1, 3, 5, 8, 13].map(entry).join('');
    writeFileSync(file, `${whole}{"line": 21, "rea`);
    await keepRejectsUpTo(file, 5);
    expect(readFileSync(file, 'utf8')).toBe([1, 3, 5].map(entry).join(''));
    await keepRejectsUpTo(file, 100); // every entry is up to it: nothing cut
    expect(readFileSync(file, 'utf8')).toBe([1, 3, 5].map(entry).join(''));
    await keepRejectsUpTo(file, 0);
    expect(readFileSync(file, 'utf8')).toBe('');
  });

  it('streams: entries across read chunks (a 3 MiB file) are kept whole', async () => {
    // Found by review on 12-02: the file was read into one string, which fails past
    // 512 MiB, on every resume of a log whose reject file had grown that large.
    const file = path.join(dir, 'big.rejects.jsonl');
    const lines = Array.from({ length: 60_000 }, (_, i) => entry(i + 1));
    writeFileSync(file, lines.join(''));
    await keepRejectsUpTo(file, 45_000);
    expect(readFileSync(file, 'utf8')).toBe(lines.slice(0, 45_000).join(''));
  });

  it('leaves a missing file missing', async () => {
    await expect(keepRejectsUpTo(path.join(dir, 'none.jsonl'), 3)).resolves.toBeUndefined();
  });
});
