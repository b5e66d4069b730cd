/**
 * A reject file that is the input would destroy it, and one that cannot be written fails the
 * import late: both refused before anything is written.
 */
import {
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { firstLoad } from '../../../src/ingest/first-load';
import { checkRejectFile } from '../../../src/ingest/importer';
import { loadCypher } from '../../../src/platform/cypher';

const dir = mkdtempSync(path.join(tmpdir(), 'coterie-reject-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = path.join(dir, 'events.jsonl');
writeFileSync(file, '{"type":"request","accountId":"a","at":"2026-02-01T00:00:00Z"}\n');

describe('checkRejectFile', () => {
  it.each([
    ['the same path', () => file],
    ['the same path, written otherwise', () => path.join(dir, '.', 'sub', '..', 'events.jsonl')],
    [
      'a hard link to it',
      () => {
        const link = path.join(dir, 'hard.jsonl');
        linkSync(file, link);
        return link;
      },
    ],
    [
      'a symlink to it',
      () => {
        const link = path.join(dir, 'soft.jsonl');
        symlinkSync(file, link);
        return link;
      },
    ],
  ])('refuses %s', (_, rejects) => {
    expect(() => checkRejectFile(file, rejects())).toThrow(
      /the reject file .* is the file to import, .*events\.jsonl: it would be cut and overwritten; give --rejects another path/,
    );
  });

  // Review, 12-07: said only after Neo4j was up and the file hashed.
  it.each([
    ['a directory', () => dir, 'EISDIR'],
    ['a file in a folder that does not exist', () => path.join(dir, 'nope', 'r.jsonl'), 'ENOENT'],
    ['a file under a file', () => path.join(file, 'r.jsonl'), 'ENOTDIR'],
  ])('refuses %s, creating nothing', (_, rejects, code) => {
    const target = rejects();
    expect(() => checkRejectFile(file, target)).toThrow(
      `cannot write the reject file ${target}: ${code}`,
    );
    expect(() => statSync(path.join(dir, 'nope'))).toThrow(/ENOENT/);
  });

  it('refuses the default reject file beside the input when that cannot be written', () => {
    const input = path.join(dir, 'beside.jsonl');
    writeFileSync(input, '{}\n');
    mkdirSync(`${input}.rejects.jsonl`);
    expect(() => checkRejectFile(input, undefined)).toThrow(
      `cannot write the reject file ${input}.rejects.jsonl: EISDIR`,
    );
  });

  it.each([
    ['no reject file given', undefined],
    ['a missing file', path.join(dir, 'missing.rejects.jsonl')],
    ['another file', path.join(dir, 'other.jsonl')],
    ['/dev/null', '/dev/null'],
  ])('passes %s', (_, rejects) => {
    if (rejects?.endsWith('other.jsonl')) writeFileSync(rejects, 'x\n');
    expect(() => checkRejectFile(file, rejects)).not.toThrow();
  });
});

describe('firstLoad', () => {
  it('refuses the input as its reject file before it writes anything', async () => {
    const dataDir = path.join(dir, 'data');
    const before = readFileSync(file);
    await expect(
      firstLoad({ file, dataDir, cypher: loadCypher(), rejectFile: file }),
    ).rejects.toThrow(/is the file to import/);
    expect(readFileSync(file)).toEqual(before);
    // no lock, no staging folder, no data folder
    for (const p of [dataDir, `${dataDir}.first-load`, `${dataDir}.first-load.lock`])
      expect(() => statSync(p)).toThrow(/ENOENT/);
  });
});
