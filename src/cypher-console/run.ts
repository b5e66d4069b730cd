/**
 * Runs one read query inside a read transaction and keeps at most `maxRows`
 * rows: it reads the stream record by record and stops at maxRows + 1, so a
 * query returning millions of rows never builds them in memory. Rows are plain
 * JSON (recordToPlain, the one conversion).
 */
import { type ManagedTransaction, recordToPlain } from '../platform/neo4j';

export interface CappedRows {
  columns: string[];
  rows: Record<string, unknown>[];
  truncated: boolean;
}

export async function runCapped(
  tx: ManagedTransaction,
  text: string,
  params: Record<string, unknown>,
  maxRows: number,
): Promise<CappedRows> {
  const result = tx.run(text, params);
  const rows: Record<string, unknown>[] = [];
  let truncated = false;
  for await (const record of result) {
    if (rows.length >= maxRows) {
      truncated = true;
      break;
    }
    rows.push(recordToPlain(record));
  }
  const keys = await result.keys();
  return { columns: keys.map(String), rows, truncated };
}
