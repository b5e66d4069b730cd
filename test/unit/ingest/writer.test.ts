/**
 * EventWriter's statements around a driver's re-run of a committed transaction: which
 * statements each attempt sends, and with which token. The database is an in-memory
 * stand-in that keeps markers and keys and commits each attempt; what the statements
 * do in Neo4j is covered in test/integration/ingest.test.ts.
 */
import type { CleanEvent } from '../../../src/ingest/event-schema';
import { aggregate } from '../../../src/ingest/aggregate';
import { EventWriter, writeRows } from '../../../src/ingest/writer';
import { loadCypher } from '../../../src/platform/cypher';
import type { Database, ManagedTransaction } from '../../../src/platform/neo4j';

const cypher = loadCypher();
const keyOf = new Map([...cypher].map(([key, text]) => [text, key]));

type Params = Record<string, unknown>;
const record = (fields: Params) => ({ get: (k: string) => fields[k] });
const plain = (v: unknown) => (Array.isArray(v) ? v.map(Number) : v);

/** Runs every write twice, as the driver does after a lost commit answer; logs statements. */
class TwiceDatabase {
  readonly markers = new Map<string, { received: unknown; written: unknown }>();
  readonly keys = new Set<string>();
  readonly attempts: { key: string; params: Params }[][] = [];

  async write<T>(work: (tx: ManagedTransaction) => Promise<T>): Promise<T> {
    await this.attempt(work);
    return this.attempt(work);
  }

  private async attempt<T>(work: (tx: ManagedTransaction) => Promise<T>): Promise<T> {
    const sent: { key: string; params: Params }[] = [];
    this.attempts.push(sent);
    const tx = {
      run: async (text: string, params: Params) => {
        const key = keyOf.get(text) ?? text;
        sent.push({ key, params });
        if (key === 'ingest/merge-ingested-batch') {
          const m = this.markers.get(params.token as string);
          if (!m) this.markers.set(params.token as string, { received: null, written: null });
          return { records: [record(m ?? { received: null, written: null })] };
        }
        if (key === 'ingest/set-ingested-batch-counts') {
          this.markers.set(params.token as string, {
            received: plain(params.received),
            written: plain(params.written),
          });
        }
        if (key === 'ingest/merge-event-ids') {
          const ids = params.ids as string[];
          const fresh = ids.map((id) => !this.keys.has(id));
          ids.forEach((id) => this.keys.add(id));
          return { records: ids.map((id, i) => record({ id, fresh: fresh[i] })) };
        }
        return { records: [] };
      },
    };
    return work(tx as unknown as ManagedTransaction);
  }
}

const ev = (accountId: string, id?: string): CleanEvent => ({
  type: 'request',
  accountId,
  at: Date.UTC(2026, 1, 1),
  ip: '10.1.2.3',
  ...(id === undefined ? {} : { id }),
});

describe('EventWriter.writeMany', () => {
  it('merges one marker per write, the same token on the re-run, which then writes nothing', async () => {
    const db = new TwiceDatabase();
    const writer = new EventWriter(db as unknown as Database, cypher);
    const batches = [
      [...Array.from({ length: 300 }, (_, i) => ev(`u-${i}`)), ev('k', 'k-1')],
      [ev('u-0'), ev('k', 'k-1'), ev('k', 'k-2')],
    ];
    const results = await writer.writeMany(batches);
    expect(results).toEqual([
      { received: 301, written: 301, duplicates: 0 },
      { received: 3, written: 2, duplicates: 1 },
    ]);

    const [first, second] = db.attempts.map((sent) => sent.map((s) => s.key));
    expect(first?.[0]).toBe('ingest/merge-ingested-batch');
    expect(first?.filter((k) => k === 'ingest/merge-ingested-batch')).toHaveLength(1);
    expect(first?.at(-1)).toBe('ingest/set-ingested-batch-counts');
    expect(first).toContain('ingest/merge-accounts');
    // the re-run: the marker (found) and the key lookup, no write, no counts
    expect(second).toEqual(['ingest/merge-ingested-batch', 'ingest/merge-event-ids']);
    const tokens = db.attempts.map((sent) => sent[0]?.params.token);
    expect(tokens[0]).toEqual(expect.any(String));
    expect(tokens[0]).toEqual(tokens[1]);
    expect(db.markers.get(tokens[0] as string)).toEqual({ received: [301, 3], written: [301, 2] });
  });

  it('gives each write its own token, so a later write of the same events is new', async () => {
    const db = new TwiceDatabase();
    const writer = new EventWriter(db as unknown as Database, cypher);
    await writer.write([ev('a')]);
    await writer.write([ev('a')]);
    expect(db.markers.size).toBe(2);
    // no key lookup for events without an id: the marker is the only statement before the writes
    expect(db.attempts[2]?.map((s) => s.key)).toContain('ingest/merge-accounts');
    expect(db.attempts[3]?.map((s) => s.key)).toEqual(['ingest/merge-ingested-batch']);
  });
});

describe('writeRows', () => {
  it('sends model and capability rows by name, then account: every writer locks those nodes in one order', async () => {
    // Review, 12-04: they went in account order, so two writers meeting two new (sparse)
    // models in opposite orders could each hold the node the other waited for.
    const sent: { key: string; params: Params }[] = [];
    const tx = {
      run: async (text: string, params: Params) => {
        sent.push({ key: keyOf.get(text) ?? text, params });
        return { records: [] };
      },
    };
    const use = (accountId: string, model: string, capability: string): CleanEvent => ({
      type: 'request',
      accountId,
      at: Date.UTC(2026, 1, 1),
      model,
      capability,
    });
    const rows = aggregate([
      use('a', 'm-2', 'c-2'),
      use('a', 'm-1', 'c-1'),
      use('b', 'm-1', 'c-2'),
      use('c', 'm-2', 'c-1'),
    ]);
    await writeRows(tx as unknown as ManagedTransaction, cypher, rows);
    const rowsOf = (key: string) =>
      sent
        .filter((s) => s.key === key)
        .flatMap((s) =>
          (s.params.rows as unknown[][]).map((r) => `${String(r[1])}/${String(r[0])}`),
        );
    expect(rowsOf('ingest/merge-model-use')).toEqual(['m-1/a', 'm-1/b', 'm-2/a', 'm-2/c']);
    expect(rowsOf('ingest/merge-capabilities')).toEqual(['c-1/a', 'c-1/c', 'c-2/a', 'c-2/b']);
  });
});
