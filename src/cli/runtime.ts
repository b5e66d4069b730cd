/**
 * Opens what a CLI command needs (config, logger, database, migrations) and
 * closes it afterwards, also on failure, so a local Neo4j never outlives the command.
 */
import { loadConfig, type Config, warnUnknownSettings } from '../platform/config';
import { type Connection, connect } from '../platform/connect';
import { type CypherMap, loadCypher } from '../platform/cypher';
import { createLogger, logDestination, type Logger } from '../platform/logger';
import { migrate } from '../platform/migrations';
import type { Database } from '../platform/neo4j';
import { never, signalExitCode, STOP_SIGNALS, stopStarted } from '../platform/stop';
import { sayOnStderr } from './terminal';

export interface CliRuntime {
  config: Config;
  logger: Logger;
  db: Database;
  cypher: CypherMap;
}

export async function withRuntime<T>(work: (rt: CliRuntime) => Promise<T>): Promise<T> {
  const config = loadConfig();
  // CLI output is the progress bar; logs go to stderr at warn unless asked for more.
  // (stderr: stdout carries the command's own output, e.g. `linkage run`'s JSON stats)
  const logger = createLogger(
    config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL,
    logDestination(2, true),
  );
  warnUnknownSettings(logger);
  // A signal while the launcher builds, Neo4j starts or migrations run stops what was
  // started, then exits 128 + its number. Left to its default action it killed this
  // process, whose exit hooks remove bolt.uri / bolt.password and stop a Maven build: both
  // outlived it. The command's own handlers take over once it starts its work.
  let connection: Connection | undefined;
  let stopped = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopped) return;
    stopped = true;
    sayOnStderr(`${signal}: stopping during start-up`);
    void stopStarted(connection, () => undefined).then(() => process.exit(signalExitCode(signal)));
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  const cypher = loadCypher();
  let failed: { err: unknown } | undefined;
  try {
    connection = await connect(config, logger, { buildLog: sayOnStderr });
    await migrate(connection.db, cypher, { log: sayOnStderr });
  } catch (err) {
    failed = { err };
  }
  if (stopped) return never(); // the handler exits
  for (const signal of STOP_SIGNALS) process.removeListener(signal, onSignal);
  if (failed || !connection) {
    await connection?.close();
    throw failed?.err;
  }
  try {
    return await work({ config, logger, db: connection.db, cypher });
  } finally {
    // What the command did is committed; its exit status stays the command's.
    const unclean = await connection.close();
    if (unclean !== null) logger.warn({ exit: unclean }, 'the embedded Neo4j did not stop cleanly');
  }
}
