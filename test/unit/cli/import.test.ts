/** `coterie import FILE`: a file it cannot read is said before any database work. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { firstLoad } from '../../../src/ingest/first-load';
import { Importer } from '../../../src/ingest/importer';
import { loadConfig } from '../../../src/platform/config';
import { loadCypher } from '../../../src/platform/cypher';
import { STOP_SIGNALS } from '../../../src/platform/stop';
import { checkReadable, importCommand } from '../../../src/cli/import';
import { withRuntime } from '../../../src/cli/runtime';

jest.mock('../../../src/cli/runtime', () => ({ withRuntime: jest.fn() }));
jest.mock('../../../src/ingest/first-load', () => ({ firstLoad: jest.fn() }));

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coterie-import-cli-'));
  jest.mocked(withRuntime).mockReset();
  jest.mocked(firstLoad).mockReset();
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('checkReadable', () => {
  it('passes a readable file', async () => {
    const file = path.join(dir, 'events.jsonl');
    fs.writeFileSync(file, '');
    await expect(checkReadable(file)).resolves.toBeUndefined();
  });

  it('names a missing file once, with the reason', async () => {
    const file = path.join(dir, 'nonexistent.jsonl');
    await expect(checkReadable(file)).rejects.toHaveProperty(
      'message',
      `cannot read ${file}: ENOENT: no such file or directory`,
    );
  });

  it('refuses a folder', async () => {
    await expect(checkReadable(dir)).rejects.toThrow(`cannot read ${dir}: not a file`);
  });
});

describe('importCommand', () => {
  it.each([{}, { firstLoad: true }])(
    'with %j, a missing file fails before Neo4j is reached, started or built',
    async (opts) => {
      const file = path.join(dir, 'nonexistent.jsonl');
      await expect(importCommand(file, opts)).rejects.toThrow(`cannot read ${file}`);
      expect(withRuntime).not.toHaveBeenCalled();
      expect(firstLoad).not.toHaveBeenCalled();
    },
  );
});

describe('--rejects naming the input file', () => {
  it.each([{}, { firstLoad: true }])(
    'with %j, is refused before Neo4j is reached and the file is left whole',
    async (opts) => {
      const file = path.join(dir, 'events.jsonl');
      fs.writeFileSync(file, '{}\n');
      const link = path.join(dir, 'link.jsonl');
      fs.linkSync(file, link);
      for (const rejects of [file, link]) {
        await expect(importCommand(file, { ...opts, rejects })).rejects.toThrow(
          `the reject file ${rejects} is the file to import`,
        );
      }
      expect(fs.readFileSync(file, 'utf8')).toBe('{}\n');
      expect(withRuntime).not.toHaveBeenCalled();
      expect(firstLoad).not.toHaveBeenCalled();
    },
  );
});

describe('--rejects that cannot be written', () => {
  it.each([{}, { firstLoad: true }])(
    'with %j, is refused before Neo4j is reached, started or built (review, 12-07)',
    async (opts) => {
      const file = path.join(dir, 'events.jsonl');
      fs.writeFileSync(file, '{}\n');
      for (const rejects of [path.join(dir, 'no-such-dir', 'r.jsonl'), dir]) {
        await expect(importCommand(file, { ...opts, rejects })).rejects.toThrow(
          `cannot write the reject file ${rejects}`,
        );
      }
      expect(withRuntime).not.toHaveBeenCalled();
      expect(firstLoad).not.toHaveBeenCalled();
    },
  );
});

describe('--first-load with an option only an import takes', () => {
  it.each([
    [{ recount: true }, '--recount'],
    [{ batchSize: 1000 }, '--batch-size'],
    [{ recount: true, batchSize: 1000 }, '--batch-size, --recount'],
  ])('with %j, is refused before anything starts, naming the option', async (opts, named) => {
    const file = path.join(dir, 'events.jsonl');
    fs.writeFileSync(file, '{}\n');
    await expect(importCommand(file, { firstLoad: true, ...opts })).rejects.toThrow(
      `--first-load takes no ${named}`,
    );
    expect(withRuntime).not.toHaveBeenCalled();
    expect(firstLoad).not.toHaveBeenCalled();
  });
});

describe('an import that fails', () => {
  it('gives up its stop handlers, so a Ctrl-C while the runtime closes is not taken for a stop', async () => {
    // Review, 12-04: only a refused or locked import reached bar.stop() and stop.dispose().
    const file = path.join(dir, 'events.jsonl');
    fs.writeFileSync(file, '{}\n');
    const listeners = () => STOP_SIGNALS.map((s) => process.listenerCount(s));
    const before = listeners();
    let during: number[] = [];
    const run = jest.spyOn(Importer.prototype, 'run').mockImplementation(async () => {
      during = listeners();
      throw new Error('Neo4j lost');
    });
    jest
      .mocked(withRuntime)
      .mockImplementation(async (work) =>
        work({ config: loadConfig({}), db: {}, cypher: loadCypher() } as never),
      );
    try {
      await expect(importCommand(file, {})).rejects.toThrow('Neo4j lost');
    } finally {
      run.mockRestore();
    }
    expect(during).toEqual(before.map((n) => n + 1)); // the import's handler was there
    expect(listeners()).toEqual(before);
  });
});
