/**
 * The current run as the analyst reads see it, against a fake driver whose sessions
 * record how they were opened: pointer reads chain their bookmarks, the reads of the
 * run they named start from them (on a cluster, never a server behind the pointer
 * read), and a pointer older than one already seen is ignored.
 */
import type { Driver } from 'neo4j-driver';
import { MembershipIndex } from '../../../src/clusters/membership-index';
import { AccountService } from '../../../src/accounts/service';
import { ClusterService } from '../../../src/clusters/service';
import { MEMBERS, encodeCursor } from '../../../src/clusters/cursor';
import { analystState, watchCurrentRun } from '../../../src/clusters/state';
import type { Context } from '../../../src/context';
import { CurrentRun, LruCache } from '../../../src/platform/cache';
import { loadCypher } from '../../../src/platform/cypher';
import { createLogger } from '../../../src/platform/logger';
import { Database } from '../../../src/platform/neo4j';

/** A socket error as Node raises it (a system error code): Neo4j is unreachable. */
const connectionRefused = () =>
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:7687'), { code: 'ECONNREFUSED' });

const cypher = loadCypher();
type Row = Record<string, unknown>;

/**
 * A driver whose sessions answer each query text from `answer` (which may throw, or
 * return a promise that never settles, as a Neo4j that is down or hangs), and record the
 * bookmarks they were opened with; session n ends with the bookmark `bm-n`.
 */
function fakeDriver(answer: (key: string, params?: Row) => Row[] | Promise<Row[]>) {
  const keys = new Map([...cypher.entries()].map(([key, text]) => [text, key]));
  const sessions: { bookmarks?: string[]; queries: string[] }[] = [];
  const driver = {
    session(config: { bookmarks?: string[] }) {
      const session = { bookmarks: config.bookmarks, queries: [] as string[] };
      sessions.push(session);
      const n = sessions.length;
      const tx = {
        run: async (text: string, params?: Row) => {
          const key = keys.get(text) ?? text;
          session.queries.push(key);
          return {
            records: (await answer(key, params)).map((row) => ({
              keys: Object.keys(row),
              get: (k: string) => row[k],
              toObject: () => row,
            })),
          };
        },
      };
      return {
        executeRead: (work: (t: typeof tx) => Promise<unknown>) => work(tx),
        beginTransaction: async () => ({
          ...tx,
          commit: async () => undefined,
          rollback: async () => undefined,
          isOpen: () => false,
        }),
        lastBookmarks: () => [`bm-${n}`],
        close: async () => undefined,
      };
    },
  };
  return { driver: driver as unknown as Driver, sessions };
}

/** A ClusterService over `driver` whose replica re-reads the pointer only when a read asks. */
function clusterService(driver: Driver): ClusterService {
  const ctx = {
    db: new Database(driver),
    cypher,
    logger: createLogger('silent'),
    config: {
      CURRENT_RUN_CHECK_MS: 3_600_000,
      MEMBERSHIP_CACHE_SIZE: 10,
      MEMBERSHIP_INDEX_MAX_ACCOUNTS: 0,
      QUERY_TIMEOUT_MS: 1000,
      CLUSTER_GRAPH_MAX_ACCOUNTS: 10,
      CLUSTER_GRAPH_MAX_IDENTIFIERS: 10,
      LINKAGE_ALLOWLIST: '',
    },
  } as unknown as Context;
  return new ClusterService(ctx);
}

/**
 * A CurrentRun that has read r-1 (at `version`), whose later pointer reads wait for the test:
 * `reads[i]` answers the i-th, `until(n)` waits until n have begun.
 */
async function heldPointerReads(version: number | null = 1) {
  const reads: ((rows: Row[]) => void)[] = [];
  let held = true;
  const { driver } = fakeDriver((key) =>
    key !== 'clusters/read-current-run' || held
      ? [{ runId: 'r-1', version }]
      : new Promise<Row[]>((resolve) => reads.push(resolve)),
  );
  const current = new CurrentRun(new Database(driver), cypher, { ttlMs: 3_600_000 });
  expect(await current.get()).toBe('r-1');
  held = false;
  const until = async (n: number) => {
    while (reads.length < n) await new Promise((r) => setImmediate(r));
  };
  return { current, reads, until };
}

/**
 * heldPointerReads, then two get()s: the first's read (reads[0]) set aside by the
 * invalidate() before the second's (reads[1]).
 */
async function readSetAside() {
  const held = await heldPointerReads();
  const { current, until } = held;
  current.invalidate(); // the ttl would otherwise answer the run held
  const first = current.get();
  await until(1);
  current.invalidate();
  const second = current.get();
  await until(2);
  return { ...held, first, second };
}

/** Lets the microtasks and timers queued so far run (a read begun behind an answer). */
const flushPromises = () => new Promise<void>((r) => setImmediate(r));
const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('CurrentRun', () => {
  it('chains pointer reads by bookmarks and ignores a pointer older than one seen', async () => {
    let pointer: Row = { runId: 'r-1', version: 1 };
    const { driver, sessions } = fakeDriver((key) =>
      key === 'clusters/read-current-run' ? [pointer] : [],
    );
    const current = new CurrentRun(new Database(driver), cypher, { ttlMs: 0 });
    const moves: (string | null)[] = [];
    current.onChange((runId) => moves.push(runId));

    expect(await current.get()).toBe('r-1');
    expect(sessions[0]?.bookmarks).toBeUndefined();
    expect(current.bookmarks()).toEqual(['bm-1']);

    pointer = { runId: 'r-2', version: 2 };
    expect(await current.get()).toBe('r-2');
    expect(sessions[1]?.bookmarks).toEqual(['bm-1']);
    expect(current.bookmarks()).toEqual(['bm-2']);

    // A server that has not caught up with r-2 answers with the pointer before it.
    pointer = { runId: 'r-1', version: 1 };
    expect(await current.get()).toBe('r-2');
    expect(sessions[2]?.bookmarks).toEqual(['bm-2']);
    expect(moves).toEqual(['r-1', 'r-2']);

    // The same version with another run (set by hand) is not older: followed.
    pointer = { runId: 'r-0', version: 2 };
    expect(await current.get()).toBe('r-0');
    // A pointer from before versions is taken as it is.
    pointer = { runId: 'r-3', version: null };
    expect(await current.get()).toBe('r-3');
    expect(moves).toEqual(['r-1', 'r-2', 'r-0', 'r-3']);
  });

  it('getNow() answers a read begun after it, also when another getNow() set its read aside', async () => {
    // Review, 12-04: two requests with a newer run's cursor at once; the first one's read
    // was set aside by the second's invalidate() and answered the run held (409 naming it).
    const { current, reads, until } = await heldPointerReads();
    const first = current.getNow();
    const second = current.getNow();
    await until(2);
    reads[0]!([{ runId: 'r-2', version: 2 }]); // the first's read, set aside by the second
    await new Promise((r) => setImmediate(r));
    reads[1]!([{ runId: 'r-2', version: 2 }]);
    expect(await Promise.all([first, second])).toEqual(['r-2', 'r-2']);
  });

  it.each([
    ['with versions, the run its own read saw', 2, { runId: 'r-2' }],
    [
      'without versions, 503 rather than the run held',
      null,
      { err: expect.objectContaining({ code: 'database_unavailable' }) },
    ],
  ])('getNow() set aside four times answers, %s', async (_name, version, expected) => {
    // Review, 12-05: a flood of requests with forged cursors, each a getNow(), set aside
    // an honest one's read again and again until it answered 503, though that read, begun
    // after its call, had seen the newer run.
    const { current, reads, until } = await heldPointerReads(version === null ? null : 1);
    const settle = () => new Promise((r) => setImmediate(r));
    // Each later getNow() starts a read that sets aside the one the first is waiting on.
    const first = current.getNow().then(
      (runId) => ({ runId }),
      (err: unknown) => ({ err }),
    );
    const later: Promise<unknown>[] = [];
    for (let n = 1; n <= 4; n++) {
      await until(n);
      later.push(current.getNow().catch(() => undefined));
      await until(n + 1);
      reads[n - 1]!([{ runId: 'r-2', version }]);
      await settle();
    }
    reads[4]!([{ runId: 'r-2', version }]);
    expect(await first).toEqual(expected);
    await Promise.all(later);
    expect(await current.get()).toBe('r-2');
  });

  it('re-reads at most once per ttl, at once after invalidate()', async () => {
    let now = 0;
    const { driver, sessions } = fakeDriver(() => [{ runId: 'r-1', version: 1 }]);
    const current = new CurrentRun(new Database(driver), cypher, { ttlMs: 1000, now: () => now });
    await current.get();
    now = 999;
    await current.get();
    expect(sessions).toHaveLength(1);
    current.invalidate();
    await current.get();
    expect(sessions).toHaveLength(2);
    now = 2000;
    await current.get();
    expect(sessions).toHaveLength(3);
  });
});

describe('the background check of the current run', () => {
  afterEach(() => jest.useRealTimers());

  it('reads the pointer at every tick, though a read takes time (review, 12-05)', async () => {
    // A read's age is stamped when it ends: checked by ttl alone, the next tick found it
    // a little under the period old and skipped, so a replica heard of a publish
    // elsewhere up to two periods late.
    jest.useFakeTimers();
    let pointerReads = 0;
    const { driver } = fakeDriver((key) => {
      if (key === 'clusters/read-current-run') pointerReads++;
      return new Promise<Row[]>((resolve) =>
        setTimeout(() => resolve([{ runId: 'r-1', version: 1 }]), 5),
      );
    });
    const ctx = {
      db: new Database(driver),
      cypher,
      logger: createLogger('silent'),
      config: { CURRENT_RUN_CHECK_MS: 1000, MEMBERSHIP_CACHE_SIZE: 10 },
    } as unknown as Context;
    const watch = watchCurrentRun(ctx);
    try {
      for (let tick = 0; tick < 10; tick++) await jest.advanceTimersByTimeAsync(1000);
      expect(pointerReads).toBe(11);
    } finally {
      watch.stop();
    }
  });
});

describe('CurrentRun while Neo4j is unreachable', () => {
  const logged = () => {
    const lines: string[] = [];
    const logger = createLogger('info', { write: (line: string) => void lines.push(line) });
    return { logger, lines };
  };

  it('answers the run last read, tries the pointer again within a second, and logs the outage once', async () => {
    let now = 0;
    let down = false;
    const { driver, sessions } = fakeDriver(() => {
      if (down) throw connectionRefused();
      return [{ runId: 'r-1', version: 1 }];
    });
    const { logger, lines } = logged();
    const hour = 3_600_000;
    const current = new CurrentRun(new Database(driver), cypher, {
      ttlMs: hour,
      now: () => now,
      logger,
    });
    expect(await current.get()).toBe('r-1');
    down = true;
    now = hour;
    expect(await current.get()).toBe('r-1'); // the read failed: the run last read
    expect(current.unreachable).toBe(true);
    expect(sessions).toHaveLength(2);
    now = hour + 500;
    expect(await current.get()).toBe('r-1');
    expect(sessions).toHaveLength(2); // not read again within the second
    now = hour + 1000;
    expect(await current.get()).toBe('r-1');
    await flushPromises(); // the read goes on behind the answer
    expect(sessions).toHaveLength(3); // read again after it, not after the hour's ttl
    expect(lines.filter((l) => l.includes('the pointer cannot be read'))).toHaveLength(1);
    down = false;
    now = hour + 2000;
    expect(await current.get()).toBe('r-1');
    await flushPromises();
    expect(current.unreachable).toBe(false);
    expect(lines.filter((l) => l.includes('the pointer can be read again'))).toHaveLength(1);
  });

  it('gives up on a pointer read after its bound, and does not start a second meanwhile', async () => {
    let hang = false;
    const { driver, sessions } = fakeDriver(() =>
      hang ? new Promise<Row[]>(() => undefined) : [{ runId: 'r-1', version: 1 }],
    );
    const current = new CurrentRun(new Database(driver), cypher, { ttlMs: 0, readTimeoutMs: 50 });
    expect(await current.get()).toBe('r-1');
    hang = true;
    const started = Date.now();
    expect(await current.get()).toBe('r-1');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await current.get()).toBe('r-1');
    expect(sessions).toHaveLength(2); // the hanging read is awaited again, not doubled
  });

  it('a Neo4j that hangs holds no lookup past the read that found it: the retries go on behind', async () => {
    // Review, 12-06: every retry (each second) was shared by the requests that came
    // meanwhile, each held up to the read's bound: 48 of 80 lookups waited, median 0.5 s.
    let now = 0;
    let hang = false;
    const { driver, sessions } = fakeDriver(() =>
      hang ? new Promise<Row[]>(() => undefined) : [{ runId: 'r-1', version: 1 }],
    );
    const current = new CurrentRun(new Database(driver), cypher, {
      ttlMs: 1000,
      readTimeoutMs: 50,
      now: () => now,
    });
    expect(await current.get()).toBe('r-1');
    hang = true;
    now = 1000;
    const first = Date.now();
    expect(await current.get()).toBe('r-1'); // this one waits out the bound: none failed yet
    expect(Date.now() - first).toBeGreaterThanOrEqual(45);
    expect(current.unreachable).toBe(true);
    for (const at of [2100, 3200, 4300]) {
      now = at; // past the second: a retry is due at each (the hung read, awaited again)
      const asked = Date.now();
      const answer = current.get();
      expect(await Promise.race([answer, delay(40).then(() => 'waited')])).toBe('r-1');
      expect(Date.now() - asked).toBeLessThan(40);
    }
    expect(sessions).toHaveLength(2); // the hung read is not doubled either
    // getNow() still waits for the read it asked for, and reports its failure
    await expect(current.getNow()).rejects.toBeDefined();
  });

  it('after invalidate() (a publish here) a get() waits for the read it asks, outage or not', async () => {
    // Review of the change above: answering at once in an outage also answered the run
    // before a publish this process had just made, until the next read.
    let down = false;
    let runId = 'r-1';
    const { driver } = fakeDriver(() => {
      if (down) throw connectionRefused();
      return [{ runId, version: runId === 'r-1' ? 1 : 2 }];
    });
    const current = new CurrentRun(new Database(driver), cypher, { ttlMs: 60_000 });
    expect(await current.get()).toBe('r-1');
    down = true;
    current.invalidate();
    expect(await current.get()).toBe('r-1'); // the read failed: the run last read
    expect(current.unreachable).toBe(true);
    down = false;
    runId = 'r-2'; // the swap this process made
    current.invalidate();
    expect(await current.get()).toBe('r-2');
  });

  it("a newer run's cursor with the pointer unreadable is 503, not a 409 naming the run last read", async () => {
    // Review, 12-04: the recheck fell back to the run last read and answered 409 with
    // currentRunId: that run, which is not current; the client then paged an old run.
    let down = false;
    const { driver } = fakeDriver((key) => {
      if (down) throw connectionRefused();
      return key === 'clusters/read-current-run' ? [{ runId: 'r-1', version: 1 }] : [];
    });
    const service = clusterService(driver);
    expect((await service.list({ minRisk: 0, minSize: 0, limit: 10 })).runId).toBe('r-1');
    down = true;
    const newer = encodeCursor(['clusters', null, 0, 0], ['r-2', 5]);
    await expect(
      service.list({ minRisk: 0, minSize: 0, limit: 10, cursor: newer }),
    ).rejects.toMatchObject({ code: 'database_unavailable' });
    const member = encodeCursor(MEMBERS, ['r-2', 'c-1', 'a']);
    await expect(
      service.detail('c-1', { memberLimit: 10, memberCursor: member }),
    ).rejects.toMatchObject({ code: 'database_unavailable' });
  });

  it('before any pointer was read, fails with 503', async () => {
    const { driver } = fakeDriver(() => {
      throw connectionRefused();
    });
    const current = new CurrentRun(new Database(driver), cypher, { ttlMs: 0 });
    await expect(current.get()).rejects.toMatchObject({ code: 'database_unavailable' });
  });

  it('after invalidate(), does not take a read begun before it', async () => {
    let release: (rows: Row[]) => void = () => undefined;
    let slow = true;
    const { driver, sessions } = fakeDriver(() =>
      slow
        ? new Promise<Row[]>((resolve) => (release = resolve))
        : [{ runId: 'r-new', version: null }],
    );
    const current = new CurrentRun(new Database(driver), cypher, { ttlMs: 60_000 });
    const before = current.get(); // reads the pointer as it was before a swap
    await new Promise((resolve) => setImmediate(resolve));
    slow = false;
    current.invalidate(); // this process's run swapped
    expect(await current.get()).toBe('r-new');
    expect(sessions).toHaveLength(2);
    release([{ runId: 'r-old', version: null }]);
    await before;
    expect(await current.get()).toBe('r-new'); // the late answer from before changed nothing
  });

  it('a read set aside by invalidate() still answers its callers the newer run it read', async () => {
    // CI, 12-04: a client saw its run succeed and asked for a cluster before the runner
    // heard of the swap; the request's read saw the new pointer, then the runner's
    // invalidate() set it aside and the request was answered the run before.
    // the request's get(), set aside by the runner's, which heard of its swap
    const { current, reads, first: request, second: runner } = await readSetAside();
    const moves: (string | null)[] = [];
    current.onChange((runId) => moves.push(runId));
    reads[0]!([{ runId: 'r-2', version: 2 }]);
    expect(await request).toBe('r-2');
    // Kept at once, as newer than the run held; the read begun after invalidate() is
    // still the check (the same run: no second move).
    expect(moves).toEqual(['r-2']);
    reads[1]!([{ runId: 'r-2', version: 2 }]);
    expect(await runner).toBe('r-2');
    expect(await current.get()).toBe('r-2');
    expect(moves).toEqual(['r-2']);
  });

  it('a read set aside before any was kept hands out its run with its bookmarks', async () => {
    // Review, 12-05: it answered its run with no bookmarks kept, so the caller's reads of
    // that run could go to a server behind it (a Neo4j cluster).
    const reads: ((rows: Row[]) => void)[] = [];
    const { driver } = fakeDriver((key) =>
      key === 'clusters/read-current-run'
        ? new Promise<Row[]>((resolve) => reads.push(resolve))
        : [],
    );
    const current = new CurrentRun(new Database(driver), cypher, { ttlMs: 60_000 });
    const request = current.get();
    while (reads.length < 1) await new Promise((r) => setImmediate(r));
    current.invalidate();
    const later = current.get();
    while (reads.length < 2) await new Promise((r) => setImmediate(r));
    reads[0]!([{ runId: 'r-1', version: null }]);
    expect(await request).toBe('r-1');
    expect(current.bookmarks()).toEqual(['bm-1']);
    reads[1]!([{ runId: 'r-1', version: null }]);
    expect(await later).toBe('r-1');
    expect(current.bookmarks()).toEqual(['bm-2']);
  });

  it('a pointer older than the run held leaves that run its bookmarks', async () => {
    // Review, 12-05: a kept set-aside read (r-2) then a current read from a server behind
    // (r-1): r-2 was answered with the lagging read's bookmarks.
    const { current, reads, first, second } = await readSetAside();
    reads[0]!([{ runId: 'r-2', version: 2 }]);
    expect(await first).toBe('r-2');
    expect(current.bookmarks()).toEqual(['bm-2']);
    reads[1]!([{ runId: 'r-1', version: 1 }]);
    expect(await second).toBe('r-2');
    expect(current.bookmarks()).toEqual(['bm-2']);
  });

  it('getNow() takes a set-aside read begun after its call that saw the run held', async () => {
    // r-2 came from a read begun before the call; the call's own read, set aside by a
    // later getNow(), saw r-2 too: enough, without waiting for the later one's read.
    const { current, reads, until } = await heldPointerReads();
    current.invalidate();
    const before = current.get();
    await until(1);
    const first = current.getNow();
    await until(2);
    const later = current.getNow();
    await until(3);
    reads[0]!([{ runId: 'r-2', version: 2 }]); // begun before getNow(): kept, as newer
    expect(await before).toBe('r-2');
    reads[1]!([{ runId: 'r-2', version: 2 }]); // first's own read, set aside by later
    expect(await first).toBe('r-2');
    reads[2]!([{ runId: 'r-2', version: 2 }]);
    expect(await later).toBe('r-2');
  });

  it('a read set aside by invalidate() answers the run held when that is newer', async () => {
    const { current, reads, first: request, second: runner } = await readSetAside();
    reads[1]!([{ runId: 'r-3', version: 3 }]);
    expect(await runner).toBe('r-3');
    reads[0]!([{ runId: 'r-2', version: 2 }]); // a server behind, or read before the swap
    expect(await request).toBe('r-3');
    expect(await current.get()).toBe('r-3');
  });

  it('a membership lookup answers from the loaded index, and without it its own read decides', async () => {
    let down = false;
    const { driver, sessions } = fakeDriver((key) => {
      if (down) throw connectionRefused();
      switch (key) {
        case 'clusters/read-current-run':
          return [{ runId: 'r-1', version: 1 }];
        case 'linkage/read-account-count':
          return [{ accounts: 1 }];
        case 'clusters/read-run-clusters-page':
          return [{ id: 'c-1', risk: 0.9, flagged: true, size: 1, reasons: '[]' }];
        case 'accounts/read-account-memberships-page':
          return [{ ids: ['a'], clusterIds: ['c-1'] }];
        default:
          return [];
      }
    });
    const { logger, lines } = logged();
    const ctx = {
      db: new Database(driver),
      cypher,
      logger,
      config: {
        CURRENT_RUN_CHECK_MS: 0,
        MEMBERSHIP_CACHE_SIZE: 10,
        MEMBERSHIP_INDEX_MAX_ACCOUNTS: 10,
        QUERY_TIMEOUT_MS: 1000,
      },
    } as unknown as Context;
    const service = new ClusterService(ctx);
    await service.currentRunId();
    expect((await analystState(ctx).membershipIndex.settled()).state).toBe('ready');
    down = true;
    const before = sessions.length;
    for (let i = 0; i < 3; i++) {
      expect(await service.membership('a')).toMatchObject({ runId: 'r-1', cluster: { id: 'c-1' } });
    }
    await expect(service.membership('b')).rejects.toMatchObject({ code: 'database_unavailable' });
    // the pointer was tried again (ttl 0; the lookups after the first shared a retry
    // going on behind them); only the one not in the index read Neo4j
    const read = sessions.slice(before).map((s) => s.queries[0] ?? 'none');
    expect(read.filter((q) => q === 'clusters/read-current-run').length).toBeGreaterThan(1);
    expect(read.filter((q) => q !== 'clusters/read-current-run')).toEqual([
      'accounts/read-account-membership',
    ]);
    expect(lines.filter((l) => l.includes('the pointer cannot be read'))).toHaveLength(1);
  });
});

/** What the analyst services need, over a fake driver; no membership index. */
function serviceContext(driver: Driver): Context {
  return {
    db: new Database(driver),
    cypher,
    logger: createLogger('silent'),
    config: {
      CURRENT_RUN_CHECK_MS: 1000,
      MEMBERSHIP_CACHE_SIZE: 10,
      MEMBERSHIP_INDEX_MAX_ACCOUNTS: 0,
      QUERY_TIMEOUT_MS: 1000,
    },
  } as unknown as Context;
}

describe('reads of the current run start from the pointer read’s bookmarks', () => {
  const answer = (key: string): Row[] => {
    switch (key) {
      case 'clusters/read-current-run':
        return [{ runId: 'r-1', version: 1 }];
      case 'linkage/read-account-count':
        return [{ accounts: 2 }];
      case 'clusters/read-run-clusters-page':
        return [{ id: 'c-1', risk: 0.9, flagged: true, size: 1, reasons: '[]' }];
      case 'accounts/read-account-memberships-page':
        return [{ ids: ['a', 'b'], clusterIds: ['c-1', ''] }];
      case 'accounts/read-account-membership':
        return [{ accountId: 'x', cluster: null }];
      default:
        return [];
    }
  };

  it('every page of the membership index', async () => {
    const { driver, sessions } = fakeDriver(answer);
    const db = new Database(driver);
    const current = new CurrentRun(db, cypher, { ttlMs: 0 });
    const index = new MembershipIndex({
      db,
      cypher,
      logger: createLogger('silent'),
      maxAccounts: 10,
      bookmarks: () => current.bookmarks(),
    });
    current.onChange((runId) => index.onRun(runId));
    await current.get();
    expect((await index.settled()).state).toBe('ready');
    const pages = sessions.slice(1);
    expect(pages.map((s) => s.queries[0])).toEqual([
      'linkage/read-account-count',
      'clusters/read-run-clusters-page',
      'accounts/read-account-memberships-page',
    ]);
    for (const page of pages) expect(page.bookmarks).toEqual(['bm-1']);
    expect(index.lookup('r-1', 'a')?.cluster?.id).toBe('c-1');
  });

  it("the membership read of an account the index does not hold, and the list's", async () => {
    const { driver, sessions } = fakeDriver(answer);
    const ctx = serviceContext(driver);
    const service = new ClusterService(ctx);
    expect(await service.membership('x')).toEqual({ accountId: 'x', runId: 'r-1', cluster: null });
    await service.list({ minRisk: 0, minSize: 0, limit: 10 });
    expect(sessions.map((s) => [s.queries[0], s.bookmarks])).toEqual([
      ['clusters/read-current-run', undefined],
      ['accounts/read-account-membership', ['bm-1']],
      ['clusters/list-clusters', ['bm-1']],
    ]);
  });
});

describe('the account profile', () => {
  /** A driver that finds account x, in no cluster of run r-1, with this profile row. */
  function profileDriver(row: Row) {
    return fakeDriver((key) => {
      switch (key) {
        case 'clusters/read-current-run':
          return [{ runId: 'r-1', version: 1 }];
        case 'accounts/read-account-membership':
          return [{ accountId: 'x', cluster: null }];
        case 'accounts/read-account':
          return [{ account: { id: 'x' }, models: [], capabilities: [], ...row }];
        default:
          return [];
      }
    });
  }

  it("reads the account from its membership's run's bookmarks, for that run's ages", async () => {
    // Review, 12-06: read without them, a replica behind the swap has the run with its
    // stats still '{}', and every link of the profile read as not aged.
    const stats = JSON.stringify({ extract: { agedAsOf: 100 * 86_400_000 } });
    const { driver, sessions } = profileDriver({
      identifiers: [{ kind: 'ip', value: '10.0.0.1', count: 1, lastSeen: 1 }],
      identifierCount: 1,
      run: [[JSON.stringify({ linkMaxAgeDays: { ip: 90 } }), stats]],
    });
    const ctx = serviceContext(driver);
    const profile = await new AccountService(ctx).profile('x');
    expect(profile.identifiers[0]?.aged).toBe(true); // last seen day 0, the limit day 10
    expect(sessions.map((s) => [s.queries[0], s.bookmarks])).toEqual([
      ['clusters/read-current-run', undefined],
      ['accounts/read-account-membership', ['bm-1']],
      ['accounts/read-account', ['bm-1']],
    ]);
  });

  it('never counts fewer than it lists, nor calls a list shorter than the cap capped (review, 12-06)', async () => {
    // Each list and its count are separate subqueries: a link committed between them is in
    // one and not the other.
    const { driver } = profileDriver({
      identifiers: [1, 2, 3].map((i) => ({ kind: 'ip', value: `10.0.0.${i}`, count: 1 })),
      identifierCount: 2, // counted before the third link's commit
      modelCount: 1, // counted after a commit its list did not see
      capabilityCount: 0,
      run: [],
    });
    const profile = await new AccountService(serviceContext(driver)).profile('x');
    expect(profile).toMatchObject({ identifierCount: 3, identifiersCapped: false });
    expect(profile.activity).toMatchObject({ modelCount: 1, modelsCapped: false });
  });
});

describe('cluster reads and the pointer', () => {
  /** A service whose replica re-reads the pointer only when a read asks it to. */
  function clusters(answer: (key: string, params?: Row) => Row[]) {
    const { driver, sessions } = fakeDriver(answer);
    const pointerReads = () =>
      sessions.filter((s) => s.queries[0] === 'clusters/read-current-run').length;
    return { service: clusterService(driver), pointerReads };
  }

  it("paging a retired cluster's members reads no pointer: its cursor names the version found", async () => {
    // Review, 12-04: every page re-read the pointer (and set aside others' reads).
    const { service, pointerReads } = clusters((key, params) => {
      switch (key) {
        case 'clusters/read-current-run':
          return [{ runId: 'r-2', version: 2 }];
        case 'clusters/read-cluster':
          return [{ cluster: { id: 'c-old', runId: 'r-1', size: 3 }, current: false }];
        case 'clusters/read-cluster-retirement':
          return [
            {
              runId: 'r-2',
              finishedAt: 2000,
              dissolved: JSON.stringify([{ clusterId: 'c-old', change: 'dissolved' }]),
            },
          ];
        case 'clusters/list-cluster-members':
          return params?.afterId === 'a' ? [{ member: { id: 'b' } }] : [];
        default:
          return [];
      }
    });
    await service.currentRunId();
    const memberCursor = encodeCursor(MEMBERS, ['r-1', 'c-old', 'a']);
    for (let page = 0; page < 3; page++) {
      const detail = await service.detail('c-old', { memberLimit: 1, memberCursor });
      expect(detail).toMatchObject({ runId: 'r-1', current: false, members: [{ id: 'b' }] });
      expect(detail.retired).toMatchObject({ runId: 'r-2', change: 'dissolved' });
    }
    expect(pointerReads()).toBe(1);
  });

  it('a graph of a cluster new in a run this replica has not read yet reads the pointer again', async () => {
    // Review, 12-04: the detail answered it as current while its graph was 404.
    let pointer = 'r-1';
    const { service, pointerReads } = clusters((key, params) => {
      switch (key) {
        case 'clusters/read-current-run':
          return [{ runId: pointer, version: pointer === 'r-1' ? 1 : 2 }];
        case 'clusters/read-cluster':
          return [
            { cluster: { id: 'c-new', runId: 'r-2', size: 2 }, current: params?.runId === 'r-2' },
          ];
        case 'clusters/read-cluster-graph':
          return params?.runId === 'r-2'
            ? [
                {
                  accounts: ['a', 'b'],
                  identifiers: [],
                  listedPrompts: [],
                  listedSubnets: [],
                  listedDomains: [],
                  run: [],
                  capped: false,
                },
              ]
            : [];
        default:
          return [];
      }
    });
    expect(await service.currentRunId()).toBe('r-1');
    pointer = 'r-2'; // published elsewhere, within this replica's check interval
    const graph = await service.graph('c-new');
    expect(graph).toMatchObject({ clusterId: 'c-new', runId: 'r-2' });
    expect(pointerReads()).toBe(2);
  });
});

describe('LruCache', () => {
  it('drops the least recently used entry past its capacity', () => {
    const cache = new LruCache<string, number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1);
    cache.set('c', 3);
    expect(cache.get('b')).toBeUndefined();
    expect([cache.get('a'), cache.get('c'), cache.size]).toEqual([1, 3, 2]);
    const none = new LruCache<string, number>(0); // capacity 0 keeps nothing
    none.set('a', 1);
    none.set('b', 2);
    expect([none.get('a'), none.get('b'), none.size]).toEqual([undefined, undefined, 0]);
  });
});
