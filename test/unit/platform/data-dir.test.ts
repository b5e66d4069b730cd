/** The local Neo4j's data directory: made when missing, a file in the way said plainly. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeDataDir } from '../../../src/platform/neo4j-local';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coterie-data-dir-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('makeDataDir', () => {
  it('makes a missing directory and the folders above it; an existing one is used', () => {
    const target = path.join(dir, 'a', 'b', 'neo4j');
    expect(makeDataDir(target)).toBe(target);
    expect(fs.statSync(target).isDirectory()).toBe(true);
    expect(makeDataDir(path.relative(process.cwd(), target))).toBe(target);
  });

  it("is its owner's alone: made 0700, an existing one narrowed to it (review, 12-06)", () => {
    const mode = (p: string) => fs.statSync(p).mode & 0o777;
    const made = path.join(dir, 'a', 'neo4j');
    makeDataDir(made);
    expect([mode(made), mode(path.dirname(made))]).toEqual([0o700, 0o700]);
    const existing = path.join(dir, 'open');
    fs.mkdirSync(existing, { mode: 0o755 });
    fs.chmodSync(existing, 0o755);
    makeDataDir(existing);
    expect(mode(existing)).toBe(0o700);
  });

  it('refuses a folder open to others that it cannot narrow, rather than use it as it is (review, 12-07)', () => {
    // Another user's folder answers chmod with EPERM (root never gets it, so it is feigned).
    const shared = path.join(dir, 'shared');
    fs.mkdirSync(shared, { mode: 0o777 });
    fs.chmodSync(shared, 0o777);
    const chmod = jest.spyOn(fs, 'chmodSync').mockImplementation(() => {
      throw Object.assign(new Error('EPERM: operation not permitted'), { code: 'EPERM' });
    });
    try {
      expect(() => makeDataDir(shared)).toThrow(
        `neo4j-local: the data directory ${shared} is open to other users (mode 777) and could ` +
          'not be narrowed to 700',
      );
      // one of its own already 0700 is used as it is
      fs.mkdirSync(path.join(dir, 'own'), { mode: 0o700 });
      expect(makeDataDir(path.join(dir, 'own'))).toBe(path.join(dir, 'own'));
    } finally {
      chmod.mockRestore();
    }
  });

  it('names the file in the way: the path itself, or a folder above it', () => {
    const file = path.join(dir, 'neo4j');
    fs.writeFileSync(file, 'not a directory');
    expect(() => makeDataDir(file)).toThrow(
      `neo4j-local: the data directory ${file} cannot be made: ${file} is a file, not a directory. ` +
        'Set NEO4J_LOCAL_DATA_DIR to a directory (it is created when missing).',
    );
    const below = path.join(file, 'x', 'y');
    expect(() => makeDataDir(below)).toThrow(`${below} cannot be made: ${file} is a file`);
    expect(fs.readFileSync(file, 'utf8')).toBe('not a directory');
  });
});
