/**
 * What every feature may depend on, built once at start-up (main.ts) or per
 * test. Passing it explicitly keeps modules free of globals.
 */
import type { ApiKey } from './platform/auth';
import type { Config } from './platform/config';
import type { CypherMap } from './platform/cypher';
import type { Logger } from './platform/logger';
import type { Metrics } from './platform/metrics';
import type { Database } from './platform/neo4j';

export interface Context {
  config: Config;
  logger: Logger;
  db: Database;
  cypher: CypherMap;
  metrics: Metrics;
  keys: ApiKey[];
  /** True once the process has begun to stop: /readyz answers 503 from then on. */
  stopping?: () => boolean;
}
