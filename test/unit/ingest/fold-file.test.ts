import {
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { Aggregator } from '../../../src/ingest/aggregate';
import { foldFile, type FoldFileOptions } from '../../../src/ingest/fold-file';
import { parseLine, type Rejected } from '../../../src/ingest/importer';
import { Rng } from '../../../src/simulate/rng';

// Each foldFile starts worker threads that load the TypeScript sources: seconds on a
// loaded machine (CI ran one test here past jest's default 5 s). Not a speed test.
jest.setTimeout(60_000);

const dir = mkdtempSync(path.join(tmpdir(), 'coterie-fold-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rejectFile = path.join(dir, 'rejects.jsonl');

/** foldFile with its reject file read back; no part file may be left beside it. */
async function fold(file: string, opts: Omit<FoldFileOptions, 'rejectFile'> = {}) {
  rmSync(rejectFile, { force: true });
  const got = await foldFile(file, { ...opts, rejectFile });
  expect(readdirSync(dir).filter((f) => f.endsWith('.part'))).toEqual([]);
  if (!got) return got;
  const rejects = readFileSync(rejectFile, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Rejected);
  expect(got.rejected).toBe(rejects.length);
  return { ...got, rejects };
}

/** Lines with keys repeated far apart, colliding times, domains and orgs, bad and blank lines. */
function lines(rng: Rng, n: number): string[] {
  const t0 = Date.UTC(2026, 1, 1);
  return Array.from({ length: n }, (_, i) => {
    if (i % 97 === 13) return '{"type": "request", "accountId": ';
    if (i % 89 === 5) return '';
    const e: Record<string, unknown> = {
      type: rng.int(5) === 0 ? 'signup' : 'request',
      accountId: `acct-${rng.int(12)}`,
      at: new Date(t0 + rng.int(50) * 60_000).toISOString(),
      ip: `10.1.${rng.int(3)}.${rng.int(5)}`,
    };
    if (rng.int(6) === 0) e.id = `key-${rng.int(40)}`;
    if (rng.int(4) === 0) e.emailDomain = `d${rng.int(3)}.example`;
    if (rng.int(4) === 0) e.org = `org-${rng.int(3)}`;
    if (rng.int(2) === 0) e.model = `m-${rng.int(2)}`;
    return JSON.stringify(e);
  });
}

/** What the online importer does with the same lines, one by one. */
function sequential(text: string[]) {
  const fold = new Aggregator();
  const ids = new Set<string>();
  let duplicates = 0;
  const rejects: unknown[] = [];
  text.forEach((line, i) => {
    if (line.trim() === '') return;
    const e = parseLine(line, i + 1);
    if ('reason' in e) rejects.push(e);
    else if (e.id !== undefined && ids.has(e.id)) duplicates++;
    else {
      if (e.id !== undefined) ids.add(e.id);
      fold.add(e);
    }
  });
  return { rows: fold.rows(), ids: [...ids].sort(), duplicates, rejects };
}

describe('foldFile', () => {
  const text = lines(new Rng(11), 2000);
  const want = sequential(text);
  const file = path.join(dir, 'events.jsonl');
  writeFileSync(file, `${text.join('\n')}\n`);

  it.each([1, 2, 3])(
    'folds with %i thread(s) exactly as one pass over the lines',
    async (workers) => {
      const got = await fold(file, { workers });
      expect(got).not.toBeNull();
      if (!got) return;
      expect(got.lines).toBe(2000);
      expect(got.rejects).toEqual(want.rejects);
      expect(got.rejects).toHaveLength(want.rejects.length);
      expect(got.duplicates).toBe(want.duplicates);
      expect(got.duplicates).toBeGreaterThan(0);
      expect([...got.eventIds].sort()).toEqual(want.ids);
      expect(got.fold.rows()).toEqual(want.rows);
    },
  );

  it('reads .gz in one pass, and counts the bytes of the file itself', async () => {
    const gz = path.join(dir, 'events.jsonl.gz');
    const bytes = gzipSync(`${text.join('\n')}\n`);
    writeFileSync(gz, bytes);
    let read = 0;
    const got = await fold(gz, { workers: 3, onBytes: (n) => (read += n) });
    expect(got?.fold.rows()).toEqual(want.rows);
    expect(read).toBe(bytes.length);
  });

  it('cuts only between lines: a line longer than the probe at the cut, CRLF endings', async () => {
    const long = JSON.stringify({
      type: 'request',
      accountId: 'acct-long',
      at: '2026-02-01T00:00:00Z',
      prompt: 'word '.repeat(60_000),
    });
    const mixed = [...text.slice(0, 999), long, ...text.slice(999)];
    const crlf = path.join(dir, 'long.jsonl');
    writeFileSync(crlf, `${mixed.join('\r\n')}\r\n`);
    const expected = sequential(mixed);
    for (const workers of [2, 4]) {
      const got = await fold(crlf, { workers });
      expect(got?.lines).toBe(2001);
      expect(got?.rejects).toEqual(expected.rejects);
      expect(got?.fold.rows()).toEqual(expected.rows);
    }
  });

  it('rejects a line longer than the limit with its number, on every thread, and reads on', async () => {
    const long = `[${text.slice(0, 300).join(',')}]`; // a JSON array on one line
    const mixed = [...text.slice(0, 999), long, ...text.slice(999)];
    const file = path.join(dir, 'overlong.jsonl');
    writeFileSync(file, `${mixed.join('\n')}\n`);
    const maxLineBytes = Buffer.byteLength(long) - 1;
    const expected = sequential([...text.slice(0, 999), '', ...text.slice(999)]);
    const want = [...expected.rejects] as Rejected[];
    want.splice(
      want.findIndex((r) => r.line > 1000),
      0,
      {
        line: 1000,
        reason: `line of ${maxLineBytes + 1} bytes, longer than the ${maxLineBytes} a line may have (not one JSON event per line?)`,
      } as never,
    );
    for (const workers of [1, 2, 4]) {
      const got = await fold(file, { workers, maxLineBytes });
      expect(got?.lines).toBe(2001);
      expect(got?.rejects).toEqual(want);
      expect(got?.fold.rows()).toEqual(expected.rows);
    }
  });

  it('reads only the first `size` bytes when given: on every thread, the ranges cut inside them', async () => {
    // A file with an unfinished last line and bytes past it: read through line 1,500.
    const partial = path.join(dir, 'partial.jsonl');
    const head = `${text.slice(0, 1500).join('\n')}\n`;
    writeFileSync(partial, `${head}${text.slice(1500).join('\n')}`);
    const expected = sequential(text.slice(0, 1500));
    for (const workers of [1, 3]) {
      const got = await fold(partial, { workers, size: Buffer.byteLength(head) });
      expect(got?.lines).toBe(1500);
      expect(got?.rejects).toEqual(expected.rejects);
      expect(got?.fold.rows()).toEqual(expected.rows);
      expect(got?.endsWithNewline).toBe(true);
    }
  });

  it('writes its parts in partsDir when given: a reject file where none can be made beside it', async () => {
    // Review, 12-05: parts went beside the reject file, so --rejects /dev/stderr (or a
    // descriptor, as here: nothing can be created in /proc) failed the first load.
    const real = path.join(dir, 'through-fd.jsonl');
    const fd = openSync(real, 'w');
    const parts = mkdtempSync(path.join(dir, 'parts-'));
    try {
      const through = `/proc/self/fd/${fd}`;
      await expect(foldFile(file, { workers: 2, rejectFile: through })).rejects.toThrow(/ENOENT/);
      const got = await foldFile(file, { workers: 2, rejectFile: through, partsDir: parts });
      expect(got?.rejected).toBe(want.rejects.length);
      expect(
        readFileSync(real, 'utf8')
          .split('\n')
          .filter((l) => l !== ''),
      ).toHaveLength(want.rejects.length);
      expect(readdirSync(parts)).toEqual([]);
    } finally {
      closeSync(fd);
    }
  });

  it('folds an empty file to nothing', async () => {
    const empty = path.join(dir, 'empty.jsonl');
    writeFileSync(empty, '');
    const got = await fold(empty, { workers: 2 });
    expect(got).toMatchObject({ lines: 0, written: 0, rejects: [] });
    expect(got?.fold.rows().accounts).toEqual([]);
  });

  it('returns null when stopped before it starts', async () => {
    const abort = new AbortController();
    abort.abort();
    expect(await fold(file, { workers: 2, signal: abort.signal })).toBeNull();
  });

  it('stopped before it starts, starts no worker: nothing of a big file is read', async () => {
    // Review, 12-05: a worker started after the abort never heard it and folded its whole
    // range (minutes of a 20 GB file before the command could exit).
    const big = path.join(dir, 'big-stopped.jsonl');
    writeFileSync(big, `${lines(new Rng(13), 60_000).join('\n')}\n`);
    const abort = new AbortController();
    abort.abort();
    let read = 0;
    const onBytes = (n: number) => (read += n);
    expect(await fold(big, { workers: 3, signal: abort.signal, onBytes })).toBeNull();
    expect(read).toBe(0);
  });

  it('stopped while the file is still hashed returns null: stopped, not failed', async () => {
    // Review, 12-05: the hash's AbortError came out as the command's error (exit 1, not 130).
    const abort = new AbortController();
    const importKey = {
      then(_: unknown, fail: (err: Error) => void) {
        abort.abort(); // Ctrl-C while the fold waits for the key
        fail(Object.assign(new Error('This operation was aborted'), { name: 'AbortError' }));
      },
    } as unknown as Promise<string>;
    expect(await fold(file, { workers: 2, signal: abort.signal, importKey })).toBeNull();
  });

  it('stops mid-fold: returns null once every worker has exited, without reading the rest', async () => {
    const big = path.join(dir, 'big.jsonl');
    writeFileSync(big, `${lines(new Rng(12), 90_000).join('\n')}\n`);
    const size = statSync(big).size;
    const abort = new AbortController();
    let read = 0;
    const onBytes = (n: number) => {
      read += n;
      abort.abort(); // at the first progress report, from this thread or a worker
    };
    writeFileSync(rejectFile, "an earlier load's rejects\n");
    expect(
      await foldFile(big, { workers: 3, signal: abort.signal, onBytes, rejectFile }),
    ).toBeNull();
    // the reject file is replaced only once a fold is in; the parts are gone
    expect(readFileSync(rejectFile, 'utf8')).toBe("an earlier load's rejects\n");
    expect(readdirSync(dir).filter((f) => f.endsWith('.part'))).toEqual([]);
    expect(abort.signal.aborted).toBe(true);
    const atStop = read;
    expect(atStop).toBeLessThan(size * 0.75);
    // nothing still running reports more bytes afterwards
    await new Promise((r) => setTimeout(r, 200));
    expect(read).toBe(atStop);
  });
});
