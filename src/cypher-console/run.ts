/**
 * How analysts' queries (ad-hoc Cypher and saved investigations) run: in one read
 * transaction with the time limit and no retries (a query that fills Neo4j's memory
 * fails once, it is not run again for 30 s), at most `QUERY_MAX_CONCURRENT` at a time
 * per process, and with both a row cap and a byte cap on what is kept. Records are
 * pulled one at a time, so neither millions of rows nor a few huge ones are built in
 * memory. Rows are plain JSON (recordToPlain, the one conversion).
 */
import type { Context } from '../context';
import { AppError } from '../platform/errors';
import { type QueryRunner, recordToPlain } from '../platform/neo4j';

export interface CappedRows {
  columns: string[];
  rows: Record<string, unknown>[];
  truncated: boolean;
}

export interface Caps {
  maxRows: number;
  maxBytes: number;
}

/**
 * Records the driver pulls per request. Neo4j sends a whole batch however large its
 * records are, so a batch of n can bring up to n - 1 records past the one that crosses
 * the byte cap; with one, the driver asks for one record ahead and no more. It costs a round trip
 * to Neo4j per record.
 */
const FETCH_SIZE = 1;

/** One of `QUERY_MAX_CONCURRENT`, held from before a query is audited until it ends. */
export interface Slot {
  /** One read transaction, no retries; `work` gets the caps from config. */
  run<T>(work: (tx: QueryRunner, caps: Caps) => Promise<T>): Promise<T>;
  /** Frees it; a second call does nothing. */
  release(): void;
}

export class AnalystQueries {
  private running = 0;

  constructor(private readonly ctx: Context) {}

  /**
   * Takes a slot, or throws 429 too_many_queries when every one is taken. Taken before
   * the query's audit entry is written, so requests past the limit never start one while
   * others' entries are being written, and each refusal is one audit write (which the 429
   * waits for).
   */
  reserve(): Slot {
    const max = this.ctx.config.QUERY_MAX_CONCURRENT;
    if (this.running >= max) {
      throw new AppError(
        'too_many_queries',
        `${max} analyst queries are already running; retry when one ends`,
      );
    }
    this.running++;
    let held = true;
    // A query the deadline gave up on keeps its slot until Neo4j has ended it.
    let ended: Promise<void> | undefined;
    const { db, config } = this.ctx;
    return {
      run: (work) =>
        db.readOnce(
          (tx) => work(tx, { maxRows: config.QUERY_MAX_ROWS, maxBytes: config.QUERY_MAX_BYTES }),
          {
            timeoutMs: config.QUERY_TIMEOUT_MS,
            fetchSize: FETCH_SIZE,
            onGivenUp: (gone) => {
              ended = gone;
            },
          },
        ),
      release: () => {
        if (!held) return;
        held = false;
        if (ended) void ended.then(() => this.running--);
        else this.running--;
      },
    };
  }
}

/**
 * Reads the stream record by record and stops at the first record past either cap
 * (`truncated: true`, that record not kept); leaving the loop makes the driver discard
 * the rest of the result on the server, pulling nothing more.
 */
export async function runCapped(
  tx: QueryRunner,
  text: string,
  params: Record<string, unknown>,
  caps: Caps,
): Promise<CappedRows> {
  const result = tx.run(text, params);
  const rows: Record<string, unknown>[] = [];
  let bytes = 0;
  let truncated = false;
  for await (const record of result) {
    if (rows.length >= caps.maxRows) {
      truncated = true;
      break;
    }
    const row = recordToPlain(record);
    bytes += Buffer.byteLength(JSON.stringify(row));
    if (bytes > caps.maxBytes) {
      truncated = true;
      break;
    }
    rows.push(row);
  }
  const keys = await result.keys();
  return { columns: keys.map(String), rows, truncated };
}
