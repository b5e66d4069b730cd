/**
 * One import of a file path at a time, across processes and hosts sharing the database:
 * two imports of a growing log at once would each continue the checkpoint as it stood
 * when they started and write the lines after it twice. A `(:ImportLock {file})` node
 * with a holder and an expiry on the database clock, renewed while the import runs; a
 * holder that dies stops renewing and the lock expires after `ttlMs`; one that died on
 * this host (its pid gone, or its pid this process's but its holder not one this process
 * holds) is taken over at once.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { type CypherMap, query } from '../platform/cypher';
import { type Database, type ManagedTransaction, int, toNumber } from '../platform/neo4j';

export const IMPORT_LOCK_TTL_MS = 60_000;

/** A release's attempts: 5 s each on the server, retried within 2 s. */
const RELEASE_BOUNDS = { timeoutMs: 5_000, budgetMs: 2_000 };

/** Another import of the same path (or of the same bytes) holds the lock. */
export class ImportLocked extends Error {
  constructor(
    readonly file: string,
    /** when that import took it (epoch ms, database clock) */
    readonly since: number,
    readonly expiresAt: number,
    /** what is locked, as said to the user (default: the path) */
    what: string = file,
  ) {
    super(
      `another import of ${what} is running (since ${new Date(since).toISOString()}; its lock ` +
        `expires at ${new Date(expiresAt).toISOString()} unless renewed): nothing was ` +
        (what === file
          ? 'read or written; run the imports of one file one after another'
          : 'written; run the imports of these bytes (copies, links) one after another'),
    );
    this.name = 'ImportLocked';
  }
}

export interface HeldImportLock {
  readonly file: string;
  readonly holder: string;
  /** set once a renewal finds the lock taken by another import (expired meanwhile) */
  readonly lost: AbortSignal;
  release(): Promise<void>;
}

/**
 * Holders of the import locks this process holds (or is taking): a lock that names this
 * very pid on this host is live only if its holder is listed here.
 */
const held = new Set<string>();

export async function takeImportLock(
  db: Database,
  cypher: CypherMap,
  file: string,
  ttlMs = IMPORT_LOCK_TTL_MS,
  what: string = file,
): Promise<HeldImportLock> {
  const holder = randomUUID();
  // Listed before it is taken: another import of this process that finds it meanwhile
  // must see it live, not take it over.
  held.add(holder);
  try {
    return await takeHeld(db, cypher, file, ttlMs, holder, what);
  } catch (err) {
    held.delete(holder);
    throw err;
  }
}

async function takeHeld(
  db: Database,
  cypher: CypherMap,
  file: string,
  ttlMs: number,
  holder: string,
  what: string,
): Promise<HeldImportLock> {
  const params = { file, holder, ttlMs: int(ttlMs) };
  const take = (takeOver: string | null) =>
    db.write(async (tx) => {
      const res = await tx.run(query(cypher, 'ingest/take-import-lock'), {
        ...params,
        takeOver,
        host: hostname(),
        pid: int(process.pid),
      });
      const rec = res.records[0];
      return {
        taken: rec?.get('taken') === true,
        holder: String(rec?.get('holder') ?? ''),
        host: rec?.get('host') as string | null,
        pid: toNumber(rec?.get('pid') ?? 0),
        since: toNumber(rec?.get('since') ?? 0),
        expiresAt: toNumber(rec?.get('expiresAt') ?? 0),
      };
    });
  let taken = await take(null);
  // A holder on this host whose process is gone (killed, crashed) is not waited for:
  // running the import again at once resumes it, as README says. One naming this very
  // pid that this process does not hold died before it: a container restarted in place
  // (same hostname, the CLI as pid 1 again).
  const dead =
    taken.host === hostname() &&
    (taken.pid === process.pid ? !held.has(taken.holder) : !alive(taken.pid));
  if (!taken.taken && dead) taken = await take(taken.holder);
  if (!taken.taken) throw new ImportLocked(file, taken.since, taken.expiresAt, what);
  const lost = new AbortController();
  const renew = async () => {
    const held = await db
      .write(async (tx) => {
        const res = await tx.run(query(cypher, 'ingest/renew-import-lock'), params);
        return res.records.length > 0;
      })
      .catch(() => true); // Neo4j away: the import's own writes fail; the lock may still hold
    if (!held)
      lost.abort(new Error(`the import lock on ${file} expired and another import took it`));
  };
  const timer = setInterval(() => void renew(), Math.max(1, Math.floor(ttlMs / 4)));
  timer.unref();
  return {
    file,
    holder,
    lost: lost.signal,
    release: async () => {
      clearInterval(timer);
      try {
        // Briefly: the lock expires on its own, and an import that failed for want of
        // Neo4j has waited out the driver's 30 s once already (with Ctrl-C looking dead).
        await db.writeBriefly(
          (tx) => tx.run(query(cypher, 'ingest/release-import-lock'), params),
          RELEASE_BOUNDS,
        );
      } finally {
        held.delete(holder);
      }
    },
  };
}

/** Whether a process of this host is running (signal 0 only checks). */
function alive(pid: number): boolean {
  if (!(pid > 0)) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // someone else's: alive
  }
}

/** Which lock, and whose: what a transaction checks it still holds. */
export interface ImportLockRef {
  file: string;
  holder: string;
}

/**
 * Fails the transaction it runs in unless the import still holds its lock: run in every
 * part's transaction, so a holder paused past the expiry writes nothing after another
 * import took the lock.
 */
export async function assertImportLockHeld(
  tx: ManagedTransaction,
  cypher: CypherMap,
  lock: ImportLockRef,
): Promise<void> {
  const res = await tx.run(query(cypher, 'ingest/check-import-lock'), {
    file: lock.file,
    holder: lock.holder,
  });
  if (res.records[0]?.get('held') !== true) {
    throw new Error(
      `the import lock on ${lock.file} was lost (it expired and another import took it): ` +
        'this part was not written; run the import again once the other one is done',
    );
  }
}

/**
 * The locks one import holds: its path's, and once the file is identified, its bytes'
 * (the content key) and those of the import it continues. The path's alone let the same
 * bytes under two paths (a copy, a symlink, one log mounted on two hosts) be imported at
 * once, each continuing the checkpoint as it stood. `lost` aborts when any one is lost.
 */
export class ImportLocks {
  private readonly held: HeldImportLock[] = [];
  private readonly lostController = new AbortController();
  readonly lost = this.lostController.signal;

  constructor(
    private readonly db: Database,
    private readonly cypher: CypherMap,
    private readonly ttlMs = IMPORT_LOCK_TTL_MS,
  ) {}

  /** Takes one more (`name`: a path or a content key); ImportLocked if another holds it. */
  async take(name: string, what: string = name): Promise<void> {
    const lock = await takeImportLock(this.db, this.cypher, name, this.ttlMs, what);
    this.held.push(lock);
    if (lock.lost.aborted) this.lostController.abort(lock.lost.reason);
    lock.lost.addEventListener('abort', () => this.lostController.abort(lock.lost.reason), {
      once: true,
    });
  }

  /** Fails the transaction unless every lock taken is still held (see assertImportLockHeld). */
  async assertHeld(tx: ManagedTransaction): Promise<void> {
    for (const lock of this.held) await assertImportLockHeld(tx, this.cypher, lock);
  }

  /** Releases them all; never rejects (a lock not released expires on its own). */
  async release(): Promise<void> {
    await Promise.all(this.held.map((lock) => lock.release().catch(() => undefined)));
  }
}
