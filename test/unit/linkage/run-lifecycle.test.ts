/**
 * The run lifecycle's bookkeeping without Neo4j: a fake Database that knows the lease,
 * the run records and the pointer, applies a transaction's writes only when it commits,
 * and can fail chosen statements as Neo4j away would. Covers what frees the lease when a
 * run fails (only the transaction that records the failure), and when publish sends the
 * swap and housekeeping runs (only after the swap). The Cypher itself is tested against a
 * real Neo4j in test/integration/linkage.test.ts.
 */
import type { Config } from '../../../src/platform/config';
import { loadCypher } from '../../../src/platform/cypher';
import { AppError } from '../../../src/platform/errors';
import type { Logger } from '../../../src/platform/logger';
import type { Database } from '../../../src/platform/neo4j';
import { housekeeping, publish } from '../../../src/linkage/publish';
import { startLinkage, stopActiveRuns } from '../../../src/linkage/runner';
import type { PublishedCluster } from '../../../src/linkage/types';

const cypher = loadCypher();
const keyOf = new Map([...cypher].map(([key, text]) => [text, key]));

const record = (o: Record<string, unknown>) => ({
  get: (k: string) => o[k],
  toObject: () => o,
  keys: Object.keys(o),
});

/** The graph as the statements the runner sends would leave it. */
class FakeNeo4j {
  holder: string | null = null;
  readonly status = new Map<string, string>();
  readonly errors = new Map<string, string>();
  current: string | null = null;
  /** every statement sent, by key, with the transaction it was sent in (1-based) */
  readonly sent: { key: string; tx: number; params: Record<string, unknown> }[] = [];
  /** statements that fail (the whole transaction with them) */
  failing = new Set<string>();
  swapAnswers = true;
  private txs = 0;

  readonly db = {
    write: <T>(work: (tx: unknown) => Promise<T>) => this.transaction(work),
    read: <T>(work: (tx: unknown) => Promise<T>) => this.transaction(work),
  } as unknown as Database;

  private async transaction<T>(work: (tx: unknown) => Promise<T>): Promise<T> {
    const tx = ++this.txs;
    const onCommit: (() => void)[] = [];
    const run = async (text: string, p: Record<string, unknown>) => {
      const key = keyOf.get(text) ?? '?';
      this.sent.push({ key, tx, params: p });
      if (this.failing.has(key)) {
        throw new AppError('database_unavailable', `Neo4j is away (injected: ${key})`);
      }
      return { records: this.answer(key, p, onCommit) };
    };
    const out = await work({ run });
    for (const apply of onCommit) apply();
    return out;
  }

  private answer(key: string, p: Record<string, unknown>, onCommit: (() => void)[]) {
    const id = (p.id ?? p.runId ?? p.holder) as string;
    switch (key) {
      case 'linkage/acquire-lease': {
        const free = this.holder === null || this.holder === p.holder;
        if (free) onCommit.push(() => (this.holder = p.holder as string));
        return [record({ acquired: free, previous: this.holder, holder: this.holder })];
      }
      case 'linkage/create-run': {
        // MERGE … ON CREATE: a record already there keeps its status, which is returned
        const status = this.status.get(id) ?? 'running';
        onCommit.push(() => this.status.set(id, status));
        return [record({ id, status })];
      }
      case 'linkage/renew-lease':
        return this.holder === p.holder ? [record({ expiresAt: 0 })] : [];
      case 'linkage/release-lease':
        onCommit.push(() => {
          if (this.holder === p.holder) this.holder = null;
        });
        return [];
      case 'linkage/fail-run':
        onCommit.push(() => {
          if (this.status.get(id) !== 'running') return;
          this.status.set(id, 'failed');
          this.errors.set(id, p.error as string);
        });
        return [];
      case 'linkage/make-run-current': {
        if (this.holder !== id || this.status.get(id) !== 'running' || !this.swapAnswers) return [];
        onCommit.push(() => {
          this.status.set(id, 'succeeded');
          this.current = id;
          this.holder = null;
        });
        return [record({ runId: id })];
      }
      // As Neo4j counts them: nothing once the run is no longer running.
      case 'linkage/merge-clusters': {
        const running = this.status.get(id) === 'running';
        return [record({ written: running ? (p.rows as unknown[]).length : 0 })];
      }
      case 'linkage/merge-memberships': {
        const rows = p.rows as { members: string[] }[];
        return [record({ written: rows.reduce((n, r) => n + r.members.length, 0) })];
      }
      case 'linkage/read-run':
        return [record({ run: { status: this.status.get(id) }, current: this.current === id })];
      case 'linkage/delete-run-memberships':
      case 'linkage/delete-run-clusters':
        return [record({ deleted: 0 })];
      default:
        return [];
    }
  }

  keys(): string[] {
    return this.sent.map((s) => s.key);
  }
}

function fakeLogger() {
  const lines: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
  const at =
    (level: string) =>
    (obj: Record<string, unknown>, msg = '') =>
      void lines.push({ level, obj, msg });
  const logger = { info: at('info'), warn: at('warn'), error: at('error') } as unknown as Logger;
  return { logger, lines };
}

const config = {
  LINKAGE_SEED: 1,
  LINKAGE_ALLOWLIST: '',
  LINKAGE_WEIGHTS: '',
  LINKAGE_LINK_MAX_AGE_DAYS: 'ip:90',
  LINKAGE_LEASE_TTL_MS: 120_000,
  LINKAGE_PUBLISH_BATCH_SIZE: 10,
  LINKAGE_KEEP_RUNS: 3,
} as unknown as Config;

function setup() {
  const neo4j = new FakeNeo4j();
  const { logger, lines } = fakeLogger();
  return { neo4j, lines, deps: { config, logger, db: neo4j.db, cypher } };
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A run held at its first phase until a shutdown has stopped it, then failing with `err`. */
async function stoppedThenFailing(deps: ReturnType<typeof setup>['deps'], err: Error) {
  let reached!: () => void;
  const atGate = new Promise<void>((r) => (reached = r));
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const run = await startLinkage(deps, {
    trigger: 'cli',
    hooks: {
      beforePhase: async () => {
        reached();
        await gate;
        throw err;
      },
    },
  });
  await atGate;
  await stopActiveRuns(deps);
  release();
  return run;
}

describe('a failed run and its lease', () => {
  it('is marked failed and frees its lease in one transaction', async () => {
    const { neo4j, deps } = setup();
    const { runId, done } = await startLinkage(deps, {
      trigger: 'cli',
      hooks: { beforePhase: () => Promise.reject(new Error('boom in extract')) },
    });
    expect(await done).toMatchObject({ status: 'failed', error: 'starting: boom in extract' });
    expect(neo4j.status.get(runId)).toBe('failed');
    expect(neo4j.errors.get(runId)).toBe('starting: boom in extract');
    expect(neo4j.holder).toBeNull();
    const fail = neo4j.sent.find((s) => s.key === 'linkage/fail-run');
    const frees = neo4j.sent.filter((s) => s.key === 'linkage/release-lease');
    expect(frees.map((s) => s.tx)).toEqual([fail?.tx]); // nothing else frees it
  });

  it('records the time of the phase it failed in, up to the failure (review, 12-06)', async () => {
    const { neo4j, deps } = setup();
    neo4j.failing.add('linkage/read-newest-activity'); // read in extract
    const { runId, done } = await startLinkage(deps, { trigger: 'cli' });
    const summary = await done;
    expect(summary).toMatchObject({ status: 'failed', error: expect.stringMatching(/^extract: /) });
    expect(summary.timings).toEqual({ extract: expect.any(Number), total: expect.any(Number) });
    const fail = neo4j.sent.find((s) => s.key === 'linkage/fail-run');
    expect(JSON.parse(fail?.params.timings as string)).toEqual(summary.timings);
    expect(neo4j.status.get(runId)).toBe('failed');
  });

  it('whose failure cannot be recorded keeps its lease until it expires, and its error in the log', async () => {
    // Found by review (/tmp/rev1, finding 1): a bare release after the failed record
    // freed the lease, leaving the run "running" without it, later "abandoned".
    const { neo4j, deps, lines } = setup();
    neo4j.failing.add('linkage/fail-run');
    const { runId, done } = await startLinkage(deps, {
      trigger: 'cli',
      leaseRenewEveryMs: 10,
      hooks: { beforePhase: () => Promise.reject(new Error('boom in extract')) },
    });
    expect(await done).toMatchObject({ status: 'failed', error: 'starting: boom in extract' });
    expect(neo4j.status.get(runId)).toBe('running');
    expect(neo4j.holder).toBe(runId);
    const after = neo4j.sent.length;
    await settle(60);
    expect(neo4j.keys().slice(after)).toEqual([]); // not renewed: it expires
    expect(neo4j.keys()).not.toContain('linkage/release-lease');
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        obj: expect.objectContaining({ runId, error: 'starting: boom in extract' }),
        msg: expect.stringMatching(/left to expire/),
      }),
    );
  });

  it.each([
    ['recorded', false],
    ['not recorded', true],
  ])('stopped by a shutdown, its failure %s: the lease is freed only with it', async (_, fails) => {
    const { neo4j, deps } = setup();
    if (fails) neo4j.failing.add('linkage/fail-run');
    // Failing as the run's own check (checkAbort) does on its next step after the stop
    // (this fake Neo4j cannot run extract).
    const { runId, done } = await stoppedThenFailing(
      deps,
      new AppError('conflict', 'run stopped: service shutting down'),
    );
    expect(await done).toMatchObject({ status: 'failed', error: 'service shutting down' });
    expect(neo4j.status.get(runId)).toBe(fails ? 'running' : 'failed');
    expect(neo4j.holder).toBe(fails ? runId : null);
    for (const free of neo4j.sent.filter((s) => s.key === 'linkage/release-lease')) {
      expect(neo4j.sent).toContainEqual(
        expect.objectContaining({ key: 'linkage/fail-run', tx: free.tx }),
      );
    }
  });
});

describe('a failure and a stop', () => {
  it('a failure already under way when a stop lands keeps its own error', async () => {
    // Review, 12-04: any failure caught after a stop read "service shutting down", also
    // one thrown before it (a write whose rollback was still on its way).
    const { neo4j, deps } = setup();
    const { runId, done } = await stoppedThenFailing(deps, new Error('disk gone'));
    const summary = await done;
    expect(summary).toMatchObject({ status: 'failed' });
    expect(summary.error).toMatch(/: disk gone$/);
    expect(neo4j.status.get(runId)).toBe('failed');
  });
});

describe('publish and housekeeping', () => {
  const cluster = (id: string, members: number[]): PublishedCluster =>
    ({
      id,
      risk: 0.5,
      flagged: false,
      members,
      reasons: [],
      signals: {},
      sharedIdentifiers: [],
      lineage: { clusterId: id, change: 'new', from: [] },
    }) as unknown as PublishedCluster;

  const input = {
    runId: 'r-1',
    clusters: [cluster('c-a', [0, 1, 2]), cluster('c-b', [3, 4])],
    dissolved: [],
    accountIds: ['a0', 'a1', 'a2', 'a3', 'a4'],
  };

  async function publishWith(neo4j: FakeNeo4j) {
    neo4j.holder = 'r-1';
    neo4j.status.set('r-1', 'running');
    let swapSentAt = -1;
    const outcome = await publish(neo4j.db, cypher, input, {
      batchSize: 2,
      leaseName: 'linkage',
      onSwap: () => (swapSentAt = neo4j.sent.length),
      finalRecord: (published) => ({ stats: { publish: published }, timings: {} }),
    }).then(
      (published) => ({ published }),
      (err: unknown) => ({ err }),
    );
    return { outcome, swapSentAt };
  }

  it('sends the swap last, says so just before, and prunes nothing itself', async () => {
    const neo4j = new FakeNeo4j();
    const { outcome, swapSentAt } = await publishWith(neo4j);
    expect(outcome).toMatchObject({ published: { clustersWritten: 2, membershipsWritten: 5 } });
    // onSwap came after every merge and right before the swap (clusters 1 batch, members 3).
    expect(swapSentAt).toBe(4);
    expect(neo4j.keys().slice(swapSentAt)).toEqual(['linkage/make-run-current']);
    expect(
      neo4j
        .keys()
        .slice(0, swapSentAt)
        .every((k) => k.startsWith('linkage/merge-')),
    ).toBe(true);
    expect(neo4j.current).toBe('r-1');
  });

  it('refused at the swap: throws conflict, having removed nothing of other runs', async () => {
    const neo4j = new FakeNeo4j();
    neo4j.swapAnswers = false;
    const { outcome, swapSentAt } = await publishWith(neo4j);
    expect(outcome).toMatchObject({ err: { code: 'conflict' } });
    expect(swapSentAt).toBeGreaterThan(0);
    expect(neo4j.keys().filter((k) => !k.startsWith('linkage/merge-'))).toEqual([
      'linkage/make-run-current',
    ]);
  });

  it('a membership batch that fails stops publish before the swap is sent', async () => {
    const neo4j = new FakeNeo4j();
    neo4j.failing.add('linkage/merge-memberships');
    const { outcome, swapSentAt } = await publishWith(neo4j);
    expect(outcome).toMatchObject({ err: { code: 'database_unavailable' } });
    expect(swapSentAt).toBe(-1);
    expect(neo4j.keys()).not.toContain('linkage/make-run-current');
  });

  it('housekeeping keeps LINKAGE_KEEP_RUNS runs, the current one included', async () => {
    const neo4j = new FakeNeo4j();
    const keep: unknown[] = [];
    const db = {
      read: (work: (tx: unknown) => Promise<unknown>) =>
        work({
          run: (text: string, p: Record<string, unknown>) => {
            if (keyOf.get(text) === 'linkage/read-runs-to-prune') keep.push(p.keep);
            return Promise.resolve({ records: [] });
          },
        }),
      write: neo4j.db.write,
    } as unknown as Database;
    const done = await housekeeping(db, cypher, { runId: 'r-1', keepRuns: 3, batchSize: 10 });
    expect(done).toMatchObject({
      prune: { runsPruned: 0, membershipsPruned: 0, failedRunsCleaned: 0 },
    });
    expect(keep.map(Number)).toEqual([3]);
  });

  it('housekeeping that fails is logged and reported as null, never thrown', async () => {
    const neo4j = new FakeNeo4j();
    neo4j.failing.add('linkage/read-runs-to-prune');
    const { logger, lines } = fakeLogger();
    const done = await housekeeping(neo4j.db, cypher, {
      runId: 'r-1',
      keepRuns: 3,
      batchSize: 10,
      logger,
    });
    expect(done.prune).toBeNull();
    expect(typeof done.pruneMs).toBe('number');
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'warn', msg: expect.stringMatching(/next run retries/) }),
    );
  });
});
