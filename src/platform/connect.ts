/**
 * Finds the database the way DESIGN.md promises: NEO4J_URI when set (Docker,
 * a cluster, Aura; bolt:// or neo4j:// routing), otherwise the embedded local
 * Neo4j started here and stopped with the process.
 */
import path from 'node:path';
import { type Config, ConfigError } from './config';
import type { Logger } from './logger';
import { type Database, openDatabase } from './neo4j';
import { BOLT_PASSWORD_FILE, findRepoRoot, runningBoltUri, startLocalNeo4j } from './neo4j-local';
import { repoRoot } from './paths';

/** Neo4j did not answer at start-up: a setting or a server to mend, not a crash. */
export class Neo4jUnreachable extends Error {
  override name = 'Neo4jUnreachable';
}

export interface Connection {
  db: Database;
  uri: string;
  local: boolean;
  /**
   * Closes the driver and stops the embedded Neo4j. Null when that Neo4j ended cleanly
   * (exit 0, by this stop or earlier), or when there is none; else how it ended.
   */
  close(): Promise<string | null>;
}

export interface ConnectOptions {
  /** The embedded Neo4j exited while still in use (killed, out of memory): why. */
  onLocalExit?: (why: string) => void;
  /** Where the embedded launcher's build notices go (default: the logger, at info). */
  buildLog?: (msg: string) => void;
}

/**
 * The checkout holding the embedded launcher, or a ConfigError saying to set NEO4J_URI: an
 * install without `neo4j-local/` (the Docker image) has only an external Neo4j to use.
 */
export function embeddedLauncherRoot(start?: string): string {
  try {
    return findRepoRoot(start);
  } catch {
    throw new ConfigError(
      'NEO4J_URI is unset and this install has no embedded Neo4j (no neo4j-local/pom.xml, as ' +
        'in the Docker image): set NEO4J_URI (and NEO4J_PASSWORD) to a Neo4j 5, e.g. bolt://neo4j:7687',
    );
  }
}

export async function connect(
  config: Config,
  logger: Logger,
  opts: ConnectOptions = {},
): Promise<Connection> {
  let uri = config.NEO4J_URI;
  let user = config.NEO4J_USER;
  let password = config.NEO4J_PASSWORD;
  let stopLocal: (() => Promise<string | null>) | undefined;
  let closing = false;
  if (uri === undefined || uri === '') {
    embeddedLauncherRoot();
    const dataDir = path.resolve(repoRoot(), config.NEO4J_LOCAL_DATA_DIR);
    logger.info({ dataDir }, 'NEO4J_URI is unset: starting the embedded local Neo4j');
    const local = await startLocalNeo4j({
      dataDir,
      port: config.NEO4J_LOCAL_BOLT_PORT,
      heap: config.NEO4J_LOCAL_HEAP,
      pagecache: config.NEO4J_LOCAL_PAGECACHE,
      collector: config.NEO4J_LOCAL_GC,
      startTimeoutMs: config.NEO4J_LOCAL_START_TIMEOUT_MS,
      log: (msg) => logger.info(msg),
      buildLog: opts.buildLog,
    }).catch((err: unknown) => {
      // Most often the service (npm start) already runs this database: use its Neo4j.
      if (err instanceof Error && /already in use by another Neo4j process/.test(err.message)) {
        const running =
          runningBoltUri(dataDir) ?? `bolt://127.0.0.1:${config.NEO4J_LOCAL_BOLT_PORT}`;
        err.message +=
          `\nIf the service is running on it, point this command at its Neo4j: ` +
          `NEO4J_URI=${running} NEO4J_PASSWORD="$(cat ${path.join(dataDir, BOLT_PASSWORD_FILE)})"`;
      }
      throw err;
    });
    uri = local.uri;
    user = local.user;
    password = local.password;
    stopLocal = async () => {
      const heard = await local.stop();
      if (heard === null) return 'no exit heard after SIGKILL';
      return heard.code === 0 ? null : (heard.signal ?? `code ${heard.code}`);
    };
    logger.info({ uri }, 'local Neo4j is up');
    void local.exited.then(({ code, signal }) => {
      if (!closing) opts.onLocalExit?.(signal ?? `code ${code}`);
    });
  }
  const options = {
    uri,
    user,
    password,
    database: config.NEO4J_DATABASE,
  };
  const db = openDatabase(options);
  const { driver } = db;
  try {
    await driver.verifyConnectivity({ database: config.NEO4J_DATABASE });
  } catch (err) {
    await driver.close();
    closing = true;
    if (stopLocal) await stopLocal();
    throw new Neo4jUnreachable(`cannot reach Neo4j at ${uri}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return {
    db,
    uri,
    local: stopLocal !== undefined,
    async close() {
      closing = true;
      await db.close();
      return stopLocal ? stopLocal() : null;
    },
  };
}
