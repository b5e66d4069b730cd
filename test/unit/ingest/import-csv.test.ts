import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Aggregator } from '../../../src/ingest/aggregate';
import type { CleanEvent } from '../../../src/ingest/event-schema';
import { writeImportFiles } from '../../../src/ingest/import-csv';

const T0 = Date.parse('2026-02-01T10:15:00Z');

/** File name → data lines split into fields (the files here hold no commas in values). */
function read(specs: string[]): Map<string, string[][]> {
  return new Map(
    specs.map((spec) => {
      const [name, file] = spec.split('=') as [string, string];
      const lines = readFileSync(file, 'utf8').trimEnd().split('\n').slice(1);
      return [name, lines.map((l) => l.split(','))];
    }),
  );
}

describe('writeImportFiles', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'import-csv-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('numbers every node once across labels and names relationship ends by number', () => {
    const fold = new Aggregator();
    const events: CleanEvent[] = [
      { type: 'signup', accountId: 'a', at: T0, ip: '10.0.0.1', emailDomain: 'x.example' },
      { type: 'payment', accountId: 'b', at: T0 + 1, paymentMethod: 'pm1' },
      { type: 'request', accountId: 'b', at: T0 + 2, ip: '10.0.0.1', model: 'm1' },
      { type: 'request', accountId: 'a', at: T0 + 3, ip: '10.0.1.9', capability: 'coding' },
    ];
    for (const e of events) fold.add(e);
    const files = writeImportFiles(fold, ['ev-1'], dir, { token: 't', at: T0 });
    expect(files.idType).toBe('actual');

    const nodes = read(files.nodes);
    // number → "Label key"
    const byNumber = new Map<string, string>();
    for (const [label, rows] of nodes) {
      for (const [n, key] of rows) {
        expect(byNumber.has(n as string)).toBe(false);
        byNumber.set(n as string, `${label} ${key}`);
      }
    }
    expect([...byNumber.keys()].map(Number).sort((x, y) => x - y)).toEqual([
      ...Array(byNumber.size).keys(),
    ]);
    expect(new Set(byNumber.values())).toEqual(
      new Set([
        'Account "a"',
        'Account "b"',
        'IP "10.0.0.1"',
        'IP "10.0.1.9"',
        'Subnet "10.0.0.0/24"',
        'Subnet "10.0.1.0/24"',
        'PaymentMethod "pm1"',
        'EmailDomain "x.example"',
        'Model "m1"',
        'Capability "coding"',
        'IngestedEvent "ev-1"',
      ]),
    );

    const ends = [...read(files.relationships)].flatMap(([type, rows]) =>
      rows.map(([from, to]) => `${byNumber.get(from!)} -${type}-> ${byNumber.get(to!)}`),
    );
    expect(ends.sort()).toEqual(
      [
        'Account "a" -CONNECTED_FROM-> IP "10.0.0.1"',
        'Account "a" -CONNECTED_FROM-> IP "10.0.1.9"',
        'Account "a" -HAS_EMAIL_DOMAIN-> EmailDomain "x.example"',
        'Account "a" -REQUESTED-> Capability "coding"',
        'Account "b" -CONNECTED_FROM-> IP "10.0.0.1"',
        'Account "b" -PAID_WITH-> PaymentMethod "pm1"',
        'Account "b" -USED_MODEL-> Model "m1"',
        'IP "10.0.0.1" -IN_SUBNET-> Subnet "10.0.0.0/24"',
        'IP "10.0.1.9" -IN_SUBNET-> Subnet "10.0.1.0/24"',
      ].sort(),
    );
  });
});
