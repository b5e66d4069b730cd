/**
 * GroupCommit's queue: which batches go together and what happens when a group
 * fails. The writer here is a recording stand-in; what a group's transaction
 * writes is covered against the real Neo4j in test/integration/ingest.test.ts.
 */
import { Neo4jError } from 'neo4j-driver';
import type { CleanEvent } from '../../../src/ingest/event-schema';
import { GroupCommit } from '../../../src/ingest/group-commit';
import { toAppError } from '../../../src/platform/neo4j';
import type { BatchKey, EventWriter, WriteResult } from '../../../src/ingest/writer';
import { AppError } from '../../../src/platform/errors';

const ev = (accountId: string): CleanEvent => ({ type: 'request', accountId, at: 0 });
const batch = (n: number, tag: string) => Array.from({ length: n }, () => ev(tag));

/** Records every call; each call waits until released, so the test controls overlap. */
class RecordingWriter {
  calls: { kind: 'many' | 'one' | 'committed'; sizes: number[]; key?: string }[] = [];
  private releases: (() => void)[] = [];
  failWhen: (batches: readonly (readonly CleanEvent[])[]) => unknown = () => undefined;

  private async call(
    kind: 'many' | 'one',
    batches: readonly (readonly CleanEvent[])[],
    batchKey?: BatchKey,
  ) {
    this.calls.push({
      kind,
      sizes: batches.map((b) => b.length),
      ...(batchKey && { key: batchKey.key }),
    });
    await new Promise<void>((r) => this.releases.push(r));
    const err = this.failWhen(batches);
    if (err) throw err;
    return batches.map((b): WriteResult => ({
      received: b.length,
      written: b.length,
      duplicates: 0,
    }));
  }
  writeMany(
    batches: readonly (readonly CleanEvent[])[],
    _alsoInTx?: unknown,
    _token?: string,
    batchKey?: BatchKey,
  ) {
    return this.call('many', batches, batchKey);
  }
  async write(events: readonly CleanEvent[]) {
    return (await this.call('one', [events]))[0] as WriteResult;
  }
  /** What a failed group's marker says it stored (undefined: it never committed). */
  stored: WriteResult[] | undefined = undefined;
  async committed(_token: string, batchKey?: BatchKey) {
    this.calls.push({ kind: 'committed', sizes: [], ...(batchKey && { key: batchKey.key }) });
    return this.stored;
  }
  /** Lets every write started so far finish. */
  async releaseAll() {
    const r = this.releases;
    this.releases = [];
    r.forEach((f) => f());
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function setup(maxEvents = 100, maxInFlight = 1, maxQueuedEvents?: number) {
  const writer = new RecordingWriter();
  const groups: number[] = [];
  const commit = new GroupCommit(writer as unknown as EventWriter, {
    maxEvents,
    maxInFlight,
    maxQueuedEvents,
    onGroup: (n) => groups.push(n),
  });
  return { writer, commit, groups };
}

describe('GroupCommit', () => {
  it('writes a batch at once when idle, then everything that queued meanwhile together', async () => {
    const { writer, commit, groups } = setup();
    const first = commit.write(batch(10, 'a'));
    expect(writer.calls).toEqual([{ kind: 'many', sizes: [10] }]);
    const rest = [commit.write(batch(20, 'b')), commit.write(batch(30, 'c'))];
    expect(writer.calls).toHaveLength(1); // queued behind the write in flight
    await writer.releaseAll();
    expect(writer.calls[1]).toEqual({ kind: 'many', sizes: [20, 30] });
    await writer.releaseAll();
    expect(await first).toEqual({ received: 10, written: 10, duplicates: 0 });
    expect(await Promise.all(rest)).toEqual([
      { received: 20, written: 20, duplicates: 0 },
      { received: 30, written: 30, duplicates: 0 },
    ]);
    expect(groups).toEqual([1, 2]);
  });

  it('answers an empty batch without a write, but writes a keyed one for its marker', async () => {
    const { writer, commit } = setup();
    expect(await commit.write([])).toEqual({ received: 0, written: 0, duplicates: 0 });
    expect(writer.calls).toEqual([]);
    const keyed = commit.write([], { key: 'k', digest: 'd' });
    expect(writer.calls).toEqual([{ kind: 'many', sizes: [0], key: 'k' }]);
    await writer.releaseAll();
    expect(await keyed).toEqual({ received: 0, written: 0, duplicates: 0 });
  });

  it('caps a group at maxEvents, in arrival order, but never splits a batch', async () => {
    const { writer, commit } = setup(50);
    const all = [5, 20, 20, 30, 80, 10].map((n, i) => commit.write(batch(n, String(i))));
    for (let i = 0; i < 5; i++) await writer.releaseAll();
    expect(writer.calls.map((c) => c.sizes)).toEqual([[5], [20, 20], [30], [80], [10]]);
    await Promise.all(all);
  });

  it('keeps maxInFlight groups going at once', async () => {
    const { writer, commit } = setup(100, 2);
    const all = [1, 2, 3, 4].map((i) => commit.write(batch(i, String(i))));
    expect(writer.calls.map((c) => c.sizes)).toEqual([[1], [2]]);
    await writer.releaseAll();
    expect(writer.calls.map((c) => c.sizes)).toEqual([[1], [2], [3, 4]]);
    await writer.releaseAll();
    await Promise.all(all);
  });

  it('retries each batch of a failed group alone, so one bad batch fails only itself', async () => {
    const { writer, commit, groups } = setup();
    const bad = new Neo4jError(
      'property too large',
      'Neo.ClientError.Statement.ArgumentError',
      '',
      '',
    );
    writer.failWhen = (batches) =>
      batches.some((b) => b[0]?.accountId === 'bad') ? bad : undefined;
    const first = commit.write(batch(1, 'ok0'));
    // Settled as they are made, so a rejection is never an unhandled one.
    const settled = Promise.allSettled([
      commit.write(batch(2, 'ok1')),
      commit.write(batch(3, 'bad')),
      commit.write(batch(4, 'ok2')),
    ]);
    for (let i = 0; i < 5; i++) await writer.releaseAll();
    await first;
    const outcomes = await settled;
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toBe(bad);
    // the groups committed: the first alone, then the two good batches each alone (the
    // group of three never committed; review, 12-05: it was told, the retries were not)
    expect(groups).toEqual([1, 1, 1]);
    // Each failed transaction's marker is read: the bad batch's, alone, too.
    expect(writer.calls).toEqual([
      { kind: 'many', sizes: [1] },
      { kind: 'many', sizes: [2, 3, 4] },
      { kind: 'committed', sizes: [] },
      { kind: 'many', sizes: [2] },
      { kind: 'many', sizes: [3] },
      { kind: 'committed', sizes: [] },
      { kind: 'many', sizes: [4] },
    ]);
  });

  it('answers a lone batch from its marker when it committed though its write failed', async () => {
    // Review, 12-04: only groups of two or more read the marker; a lone batch (and each
    // batch a failed group wrote alone) was answered 503, and its resend counted twice.
    const { writer, commit } = setup();
    const busy = toAppError(
      new Neo4jError('lock', 'Neo.TransientError.Transaction.LockClientStopped', '', ''),
    );
    writer.failWhen = () => busy;
    writer.stored = [{ received: 2, written: 2, duplicates: 0 }];
    const lone = commit.write(batch(2, 'a'));
    await writer.releaseAll();
    expect(await lone).toEqual(writer.stored[0]);
    expect(writer.calls.map((c) => c.kind)).toEqual(['many', 'committed']);
    // Not committed: the write's own error.
    writer.stored = undefined;
    const failed = commit.write(batch(1, 'b')).then(
      () => 'written',
      (err: unknown) => err,
    );
    await writer.releaseAll();
    expect(await failed).toBe(busy);
  });

  it('fails a group whose marker cannot be read, writing nothing again', async () => {
    const { writer, commit } = setup();
    const busy = toAppError(
      new Neo4jError('lock', 'Neo.TransientError.Transaction.LockClientStopped', '', ''),
    );
    const first = commit.write(batch(1, 'x'));
    const rest = Promise.allSettled([commit.write(batch(2, 'a')), commit.write(batch(3, 'b'))]);
    await writer.releaseAll();
    await first;
    writer.failWhen = () => busy;
    writer.committed = async () => {
      writer.calls.push({ kind: 'committed', sizes: [] });
      throw new Error('gone');
    };
    await writer.releaseAll();
    expect((await rest).map((o) => o.status)).toEqual(['rejected', 'rejected']);
    expect(writer.calls.map((c) => c.kind)).toEqual(['many', 'many', 'committed']);
  });

  it('answers a failed group from its marker when it committed, writing nothing again', async () => {
    // Review, 12-04: a group that committed while every answer the driver got was an error
    // (a database restarting answers "busy") was written again batch by batch.
    const { writer, commit } = setup();
    const busy = toAppError(
      new Neo4jError('starting', 'Neo.TransientError.Transaction.DeadlockDetected', '', ''),
    );
    const first = commit.write(batch(1, 'x'));
    const rest = [commit.write(batch(2, 'a')), commit.write(batch(3, 'b'))];
    await writer.releaseAll();
    await first;
    writer.failWhen = () => busy;
    writer.stored = [
      { received: 2, written: 2, duplicates: 0 },
      { received: 3, written: 1, duplicates: 2 },
    ];
    await writer.releaseAll();
    expect(await Promise.all(rest)).toEqual(writer.stored);
    expect(writer.calls.map((c) => c.kind)).toEqual(['many', 'many', 'committed']);
  });

  it('refuses a batch past maxQueuedEvents waiting (503 busy), unless none waits, and takes more as the queue drains', async () => {
    // Review, 12-04: the queue had no bound; with Neo4j slow every request waited in it
    // holding its body.
    const { writer, commit } = setup(100, 1, 10);
    const inFlight = commit.write(batch(50, 'a')); // not waiting: in flight at once
    const waiting = [commit.write(batch(6, 'b')), commit.write(batch(4, 'c'))];
    await expect(commit.write(batch(1, 'd'))).rejects.toMatchObject({
      code: 'database_busy',
      details: { queuedEvents: 10, maxQueuedEvents: 10 },
    });
    await writer.releaseAll(); // a's write ends; b and c go in flight together
    const later = commit.write(batch(30, 'e')); // none waits: taken however large
    await expect(commit.write(batch(1, 'f'))).rejects.toMatchObject({ code: 'database_busy' });
    for (let i = 0; i < 3; i++) await writer.releaseAll();
    await Promise.all([inFlight, ...waiting, later]);
    expect(writer.calls.map((c) => c.sizes)).toEqual([[50], [6, 4], [30]]);
  });

  it('fails the whole group at once when the database is unreachable (no retry storm)', async () => {
    const { writer, commit } = setup();
    // What Database.write throws when the driver reports the database gone.
    const down = toAppError(new Neo4jError('gone', 'ServiceUnavailable', '', ''));
    const settled = Promise.allSettled([
      commit.write(batch(1, 'a')),
      commit.write(batch(2, 'b')),
      commit.write(batch(3, 'c')),
    ]);
    writer.failWhen = () => down;
    for (let i = 0; i < 3; i++) await writer.releaseAll();
    const outcomes = await settled;
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(outcomes.map((o) => (o as PromiseRejectedResult).reason)).toEqual([down, down, down]);
    expect(writer.calls.map((c) => c.kind)).toEqual(['many', 'many']);
  });
  it('writes a batch sent with an Idempotency-Key alone, under its key, and the others around it together', async () => {
    const { writer, commit } = setup();
    const key = (k: string): BatchKey => ({ key: k, digest: 'd' });
    const first = commit.write(batch(1, 'x'));
    const rest = [
      commit.write(batch(2, 'a')),
      commit.write(batch(3, 'k'), key('k1')),
      commit.write(batch(4, 'b')),
      commit.write(batch(5, 'c')),
      commit.write(batch(6, 'k'), key('k2')),
    ];
    for (let i = 0; i < 6; i++) await writer.releaseAll();
    await Promise.all([first, ...rest]);
    expect(writer.calls).toEqual([
      { kind: 'many', sizes: [1] },
      { kind: 'many', sizes: [2] }, // not joined by the keyed batch behind it
      { kind: 'many', sizes: [3], key: 'k1' },
      { kind: 'many', sizes: [4, 5] },
      { kind: 'many', sizes: [6], key: 'k2' },
    ]);
  });

  it('reads a failed keyed batch back by its key, but not one refused for a key sent with another batch', async () => {
    const { writer, commit } = setup();
    const busy = toAppError(
      new Neo4jError('lock', 'Neo.TransientError.Transaction.LockClientStopped', '', ''),
    );
    writer.failWhen = () => busy;
    writer.stored = [{ received: 2, written: 2, duplicates: 0, replayed: true }];
    const lone = commit.write(batch(2, 'a'), { key: 'k', digest: 'd' });
    await writer.releaseAll();
    expect(await lone).toEqual(writer.stored[0]);
    expect(writer.calls.slice(-1)).toEqual([{ kind: 'committed', sizes: [], key: 'k' }]);

    const reused = new AppError('idempotency_key_reused', 'another batch');
    writer.failWhen = () => reused;
    const refused = commit.write(batch(1, 'b'), { key: 'k', digest: 'other' }).then(
      () => 'written',
      (err: unknown) => err,
    );
    await writer.releaseAll();
    expect(await refused).toBe(reused);
    expect(writer.calls.slice(-1)).toEqual([{ kind: 'many', sizes: [1], key: 'k' }]);
  });
});
