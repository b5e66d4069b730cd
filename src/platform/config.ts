/**
 * The service's configuration: one zod schema over the environment, parsed once
 * at start-up. Every key is documented in README.md ("Configuration"); the only
 * other read of process.env in src/ is JAVA_HOME, to find the launcher's java.
 */
import { z } from 'zod';
import { MAX_SEED } from '../linkage/rng';

const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);
const port = (def: number) => z.coerce.number().int().min(0).max(65_535).default(def);
/** A JVM-style size: digits with an optional k, m, g or t (e.g. 512m, 2g). */
const memorySize = (def: string) =>
  z
    .string()
    .regex(/^[1-9][0-9]*[kmgt]?$/i, 'a size such as 512m or 2g')
    .default(def);
export const configSchema = z.object({
  HOST: z.string().default('127.0.0.1'),
  PORT: port(8080),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_SYNC: z.stringbool().default(false),
  OPENAPI_PUBLIC: z.stringbool().default(false),

  NEO4J_URI: z.string().optional(),
  NEO4J_USER: z.string().default('neo4j'),
  NEO4J_PASSWORD: z.string().default(''),
  NEO4J_DATABASE: z.string().optional(),

  NEO4J_LOCAL_DATA_DIR: z.string().default('.coterie/neo4j'),
  NEO4J_LOCAL_BOLT_PORT: port(7687),
  NEO4J_LOCAL_HEAP: memorySize('2g'),
  NEO4J_LOCAL_PAGECACHE: memorySize('1g'),

  INGEST_MAX_EVENTS: int(10000, 1),
  INGEST_MAX_BODY_BYTES: int(10 * 1024 * 1024, 1024),
  IMPORT_BATCH_SIZE: int(200_000, 1),
  IMPORT_PART_ROWS: int(50_000, 1),
  INGEST_WRITE_CONCURRENCY: int(1, 1),
  INGEST_GROUP_MAX_EVENTS: int(20_000, 1),
  INGEST_EVENT_ID_RETENTION_DAYS: int(30),

  API_KEYS: z.string().default(''),

  LINKAGE_CRON: z.string().default('0 3 * * *'),
  LINKAGE_SEED: z.coerce.number().int().min(0).max(MAX_SEED).default(42),
  LINKAGE_RESOLUTION: z.coerce.number().positive().default(1),
  LINKAGE_MIN_CLUSTER_SIZE: int(3, 2),
  RISK_THRESHOLD: z.coerce.number().min(0).max(1).default(0.7),
  LINKAGE_ALLOWLIST: z.string().default(''),
  LINKAGE_WEIGHTS: z.string().default(''),
  // LSH with d + 2 bands of 64 bits: past 8 the bands are too narrow to prune anything.
  LINKAGE_PROMPT_MAX_HAMMING: z.coerce.number().int().min(0).max(8).default(3),
  LINKAGE_KEEP_RUNS: int(5, 1),
  LINKAGE_LEASE_TTL_MS: int(120_000, 1000),
  LINKAGE_EXTRACT_PAGE_SIZE: int(20_000, 1),
  LINKAGE_EXTRACT_PACKED: z.stringbool().default(true),
  LINKAGE_PUBLISH_BATCH_SIZE: int(5_000, 1),

  QUERY_TIMEOUT_MS: int(10_000, 100),
  QUERY_MAX_ROWS: int(1000, 1),
  QUERY_MAX_BYTES: int(8 * 1024 * 1024, 1024),
  QUERY_MAX_CONCURRENT: int(4, 1),
  CYPHER_CONSOLE: z.enum(['analyst', 'admin', 'off']).default('analyst'),
  MEMBERSHIP_CACHE_SIZE: int(100_000),
  // V8 Maps hold at most 2^24 entries (src/clusters/membership-index.ts).
  MEMBERSHIP_INDEX_MAX_ACCOUNTS: z.coerce.number().int().min(0).max(16_000_000).default(5_000_000),
  CURRENT_RUN_CHECK_MS: int(1000),
  CLUSTER_GRAPH_MAX_ACCOUNTS: int(200, 1),
  CLUSTER_GRAPH_MAX_IDENTIFIERS: int(300, 1),
});

export type Config = z.infer<typeof configSchema>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // `PORT=` (empty) is unset, not 0: a number coerced from "" would be 0 (a random port,
  // retention off), and a string would be "" where the default was meant.
  const set = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  const parsed = configSchema.safeParse(set);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
