/**
 * A fresh, private Neo4j for one integration test file: the local launcher on a free port
 * with a new temp data dir, removed again by stop(). Start it in beforeAll, stop it in
 * afterAll; files get separate databases and can run side by side.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import neo4j, { type Driver } from 'neo4j-driver';
import type { CypherMap } from '../../src/platform/cypher';
import { migrate } from '../../src/platform/migrations';
import { Database, createDriver, type ManagedTransaction } from '../../src/platform/neo4j';
import { startLocalNeo4j } from '../../src/platform/neo4j-local';

export interface TestNeo4j {
  uri: string;
  user: string;
  /** the embedded Neo4j's password (a new one each start) */
  password: string;
  driver: Driver;
  stop(): Promise<void>;
}

export async function startTestNeo4j(): Promise<TestNeo4j> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coterie-neo4j-'));
  let local;
  try {
    local = await startLocalNeo4j({
      dataDir,
      port: 0,
      heap: '512m',
      pagecache: '128m',
      log: process.env.NEO4J_LOCAL_VERBOSE ? (msg) => process.stderr.write(`${msg}\n`) : undefined,
    });
  } catch (err) {
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const driver = neo4j.driver(local.uri, neo4j.auth.basic(local.user, local.password));
  // If the test process ends without stop() (crash, timeout), the launcher shuts itself down
  // (its stdin closes); still remove the throwaway store so /tmp does not fill up.
  const removeOnExit = () => fs.rmSync(dataDir, { recursive: true, force: true });
  process.once('exit', removeOnExit);
  let stopping: Promise<void> | undefined;
  return {
    uri: local.uri,
    user: local.user,
    password: local.password,
    driver,
    stop() {
      stopping ??= (async () => {
        try {
          await driver.close();
          await local.stop();
        } finally {
          process.off('exit', removeOnExit);
          fs.rmSync(dataDir, { recursive: true, force: true });
        }
      })();
      return stopping;
    },
  };
}

/** The service's Database on a test Neo4j, with the migrations applied (close it before stop). */
export async function migratedDatabase(n: TestNeo4j, cypher: CypherMap): Promise<Database> {
  const db = new Database(createDriver({ uri: n.uri, user: n.user, password: n.password }));
  await migrate(db, cypher);
  return db;
}

/**
 * What the driver does when a commit's answer is lost: the work runs again, after the
 * first commit landed. Every write through it commits twice; `answers` keeps what each
 * write's two runs returned (the first is the one the lost reply would have carried).
 */
export class CommitsTwice extends Database {
  readonly answers: [first: unknown, second: unknown][] = [];
  /** what happens elsewhere between the commit and the retry (the driver waits first) */
  between: () => Promise<void> = async () => undefined;

  override async write<T>(work: (tx: ManagedTransaction) => Promise<T>): Promise<T> {
    const first = await super.write(work);
    await this.between();
    const second = await super.write(work);
    this.answers.push([first, second]);
    return second;
  }
}

/** Whether a process with this pid is still running. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Waits until at least `n` transactions wait on a lock (SHOW TRANSACTIONS), so a test
 * that holds a lock knows the writers it started really are waiting together. With
 * `queryContains`, only transactions whose current query contains it count.
 */
export async function waitForBlocked(
  driver: Driver,
  n: number,
  what: string,
  queryContains = '',
): Promise<void> {
  for (const until = Date.now() + 60_000; ;) {
    const { records } = await driver.executeQuery(
      `SHOW TRANSACTIONS YIELD status, currentQuery
       WHERE status STARTS WITH 'Blocked' AND currentQuery CONTAINS $queryContains
       RETURN count(*) AS n`,
      { queryContains },
    );
    if (Number(records[0]?.get('n')) >= n) return;
    if (Date.now() > until) throw new Error(`${what}: not within 60 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
