/**
 * The service's configuration: one zod schema over the environment, parsed once
 * at start-up. Every key is documented in README.md ("Configuration"); the only
 * other reads of process.env in src/ are JAVA_HOME, to find the launcher's java, and the
 * environment the launcher inherits (NEO4J_LOCAL_DEBUG: its stack traces).
 */
import { z } from 'zod';
import { MAX_SEED } from '../linkage/rng';
import { DECIMAL, DIGITS } from './number-text';
import { COLLECTORS } from './neo4j-local';

/**
 * Node's timers hold at most 2^31 − 1 ms (24.8 days); a longer delay fires after 1 ms
 * (TimeoutOverflowWarning), so a timer meant to tick monthly would tick a thousand times
 * a second. Every *_MS setting, and every timer derived from it, stays within this.
 */
export const MAX_TIMER_MS = 2_147_483_647;

const digits = z
  .string()
  .trim()
  .regex(DIGITS, 'a whole number in decimal digits')
  .transform(Number);
const decimal = z.string().trim().regex(DECIMAL, 'a decimal number such as 0.7').transform(Number);

const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  digits.pipe(z.number().int().min(min).max(max)).default(def);
const port = (def: number) => int(def, 0, 65_535);
const ms = (def: number, min = 0, max = MAX_TIMER_MS) =>
  digits
    .pipe(
      z
        .number()
        .min(min)
        .max(
          max,
          max === MAX_TIMER_MS
            ? `at most ${MAX_TIMER_MS} ms (24.8 days), the longest timer Node keeps`
            : `at most ${max} ms: the longest timer Node keeps, less the ${MAX_TIMER_MS - max} ms added to it`,
        ),
    )
    .default(def);
/**
 * A JVM-style size with its unit: digits and k, m or g (e.g. 512m, 2g), the only forms
 * both -Xmx and the launcher's --pagecache read alike (bare digits are bytes to the
 * launcher, and it knows no t).
 */
export const MEMORY_SIZE = /^[1-9][0-9]*[kmg]$/i;
export const MEMORY_SIZE_RULE = 'a size with a unit k, m or g, such as 512m or 2g';
const memorySize = (def: string) => z.string().regex(MEMORY_SIZE, MEMORY_SIZE_RULE).default(def);
/**
 * A Bolt URI the driver takes: bolt:// (one server) or neo4j:// (routing), +s or +ssc for
 * TLS, with a host. Anything else would fail only at connect, as the driver's
 * "Unknown scheme: null" with a stack trace (`localhost:7687`).
 */
const BOLT_SCHEME = /^(bolt|neo4j)(\+s|\+ssc)?:\/\//;
const boltUri = z
  .string()
  .refine((uri) => {
    if (!BOLT_SCHEME.test(uri)) return false;
    try {
      return new URL(uri).hostname !== '';
    } catch {
      return false;
    }
  }, 'a bolt:// or neo4j:// URI (bolt+s://, neo4j+s://, +ssc for TLS) with a host, such as bolt://localhost:7687')
  // The URI is logged (the listening line, an unreachable Neo4j's error): a password in it
  // would be too (review, 12-05). The driver takes credentials from NEO4J_USER/PASSWORD.
  .refine((uri) => {
    try {
      const { username, password } = new URL(uri);
      return username === '' && password === '';
    } catch {
      return true; // refused above
    }
  }, 'no user or password in the URI: it is logged; set NEO4J_USER and NEO4J_PASSWORD');

export const configSchema = z.object({
  HOST: z.string().default('127.0.0.1'),
  PORT: port(8080),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_SYNC: z.stringbool().default(false),
  OPENAPI_PUBLIC: z.stringbool().default(false),

  NEO4J_URI: boltUri.optional(),
  NEO4J_USER: z.string().default('neo4j'),
  NEO4J_PASSWORD: z.string().default(''),
  NEO4J_DATABASE: z.string().optional(),

  NEO4J_LOCAL_DATA_DIR: z.string().default('.coterie/neo4j'),
  NEO4J_LOCAL_BOLT_PORT: port(7687),
  NEO4J_LOCAL_HEAP: memorySize('2g'),
  NEO4J_LOCAL_PAGECACHE: memorySize('1g'),
  NEO4J_LOCAL_GC: z.enum(COLLECTORS).default('g1'),
  NEO4J_LOCAL_START_TIMEOUT_MS: ms(180_000, 1000),

  INGEST_MAX_EVENTS: int(10000, 1),
  INGEST_MAX_BODY_BYTES: int(10 * 1024 * 1024, 1024),
  IMPORT_BATCH_SIZE: int(200_000, 1),
  IMPORT_PART_ROWS: int(50_000, 1),
  INGEST_WRITE_CONCURRENCY: int(1, 1),
  INGEST_GROUP_MAX_EVENTS: int(20_000, 1),
  INGEST_QUEUE_MAX_EVENTS: int(100_000, 1),
  INGEST_EVENT_ID_RETENTION_DAYS: int(30),
  // 0 keeps them for ever (src/ingest/retention.ts)
  AUDIT_QUERY_RETENTION_DAYS: int(0),

  API_KEYS: z.string().default(''),
  // Per API key and process, batches of events aside; 0 turns it off (src/platform/rate-limit.ts).
  API_RATE_LIMIT_PER_MINUTE: int(1200),

  LINKAGE_CRON: z.string().default('0 3 * * *'),
  LINKAGE_SEED: int(42, 0, MAX_SEED),
  LINKAGE_RESOLUTION: decimal.pipe(z.number().positive()).default(1),
  LINKAGE_MIN_CLUSTER_SIZE: int(3, 2),
  RISK_THRESHOLD: decimal.pipe(z.number().min(0).max(1)).default(0.7),
  LINKAGE_ALLOWLIST: z.string().default(''),
  LINKAGE_WEIGHTS: z.string().default(''),
  // LSH keys shorten as d grows: chance candidates grow with the square of the
  // fingerprints at every d, by a factor that doubles with every bit the keys lose (1M
  // random ones: 1.2 s at 3, 3.4 s at 5, 5.7 s at 6; 45 s at 7 and 80 s at 8 by review,
  // 12-07); at 5 already 137 M candidates for 2M. A deployment that set 6–8 stops at start.
  LINKAGE_PROMPT_MAX_HAMMING: int(3, 0, 5),
  // Per kind, days before the graph's newest activity after which a link stops linking
  // (src/linkage/link-age.ts); "off": nothing ages (empty is unset: the default).
  LINKAGE_LINK_MAX_AGE_DAYS: z.string().default('ip:90'),
  LINKAGE_KEEP_RUNS: int(5, 1),
  LINKAGE_LEASE_TTL_MS: ms(120_000, 1000),
  // A run stuck past it (a read on a half-open socket) stops and lets its lease go; 0: none.
  LINKAGE_MAX_RUN_MS: ms(7_200_000),
  LINKAGE_EXTRACT_PAGE_SIZE: int(20_000, 1),
  LINKAGE_EXTRACT_PACKED: z.stringbool().default(true),
  LINKAGE_PUBLISH_BATCH_SIZE: int(5_000, 1),

  // The service's own deadline is this plus QUERY_DEADLINE_GRACE_MS (neo4j.ts), 2 s: past
  // Node's longest timer it would fire at once (review, 12-05).
  QUERY_TIMEOUT_MS: ms(10_000, 100, MAX_TIMER_MS - 2_000),
  QUERY_MAX_ROWS: int(1000, 1),
  QUERY_MAX_BYTES: int(8 * 1024 * 1024, 1024),
  QUERY_WORKER_HEAP_MB: int(256, 32),
  QUERY_MAX_CONCURRENT: int(4, 1),
  // Of those, at most this many per API key (a runaway expression holds its slot until
  // Neo4j ends it): one key cannot hold every slot. Above QUERY_MAX_CONCURRENT it is moot.
  QUERY_MAX_CONCURRENT_PER_KEY: int(2, 1),
  CYPHER_CONSOLE: z.enum(['analyst', 'admin', 'off']).default('analyst'),
  MEMBERSHIP_CACHE_SIZE: int(100_000),
  // V8 Maps hold at most 2^24 entries (src/clusters/membership-index.ts).
  MEMBERSHIP_INDEX_MAX_ACCOUNTS: int(5_000_000, 0, 16_000_000),
  CURRENT_RUN_CHECK_MS: ms(1000),
  CLUSTER_GRAPH_MAX_ACCOUNTS: int(200, 1),
  CLUSTER_GRAPH_MAX_IDENTIFIERS: int(300, 1),
});

export type Config = z.infer<typeof configSchema>;

/**
 * A setting the service or CLI refuses: said by its message alone (which names the key),
 * not with a stack trace, which is kept for real crashes.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // `PORT=` or `PORT=' '` (blank) is unset, not 0: a number read from it would be 0 (a
  // random port, retention off), and a string would be "" where the default was meant.
  const set = Object.fromEntries(Object.entries(env).filter(([, v]) => v?.trim() !== ''));
  const parsed = configSchema.safeParse(set);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

/**
 * Read outside this schema: by the local Neo4j's launcher from the environment it
 * inherits, and by the test suite (the test Neo4j's start-up lines on stderr).
 */
const LAUNCHER_SETTINGS = ['NEO4J_LOCAL_DEBUG', 'NEO4J_LOCAL_VERBOSE'];

/**
 * Environment keys that look like settings (a known setting's first word: `LINKAGE_`,
 * `QUERY_`, …) but name none. The schema ignores unknown keys, so a misspelt
 * `LINKAGE_ALLOW_LIST` would leave the benign values it names linking accounts, silently.
 */
export function unknownSettings(env: NodeJS.ProcessEnv = process.env): string[] {
  const known = new Set([...Object.keys(configSchema.shape), ...LAUNCHER_SETTINGS]);
  const prefixes = new Set([...known].filter((k) => k.includes('_')).map((k) => k.split('_')[0]));
  return Object.keys(env)
    .filter((k) => !known.has(k) && prefixes.has(k.split('_')[0] ?? '') && k.includes('_'))
    .sort();
}

/** Says each of unknownSettings() once, at start. */
export function warnUnknownSettings(
  logger: { warn(obj: object, msg: string): void },
  env: NodeJS.ProcessEnv = process.env,
): void {
  const unknown = unknownSettings(env);
  if (unknown.length > 0) {
    logger.warn({ unknown }, "ignored: not a Coterie setting (misspelt?); see the README's table");
  }
}
