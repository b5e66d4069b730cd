/**
 * Opens what a CLI command needs (config, logger, database, migrations) and
 * closes it afterwards, also on failure, so a local Neo4j never outlives the command.
 */
import { loadConfig, type Config } from '../platform/config';
import { connect } from '../platform/connect';
import { type CypherMap, loadCypher } from '../platform/cypher';
import { createLogger, logDestination, type Logger } from '../platform/logger';
import { migrate } from '../platform/migrations';
import type { Database } from '../platform/neo4j';
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
  const connection = await connect(config, logger, { buildLog: sayOnStderr });
  try {
    const cypher = loadCypher();
    await migrate(connection.db, cypher);
    return await work({ config, logger, db: connection.db, cypher });
  } finally {
    await connection.close();
  }
}
