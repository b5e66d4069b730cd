/**
 * What pulling records one at a time costs the Cypher console and investigations
 * (src/cypher-console/run.ts, FETCH_SIZE): the same read query, iterated as runCapped
 * does, at fetch sizes 1, 10 and 50, against a fresh embedded Neo4j.
 *
 *   npx tsx bench/query/fetch-size.ts [--rows 1000] [--rounds 15]
 *
 * Prints the median and p90 wall time per query for each fetch size, and the ratio
 * to fetch size 50 (the old setting), measured in the same run, rounds interleaved.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import neo4j from 'neo4j-driver';
import { startLocalNeo4j } from '../../src/platform/neo4j-local';
import { benchArgs, runBench, wholeOption } from '../options';

const SIZES = [1, 10, 50];

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
}

async function main(): Promise<void> {
  const args = benchArgs(__filename, {
    rows: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '15' },
  });
  const rows = wholeOption('rows', args.rows);
  const rounds = wholeOption('rounds', args.rounds);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'coterie-bench-fetch-'));
  const local = await startLocalNeo4j({ dataDir, port: 0, heap: '1g', pagecache: '256m' });
  const driver = neo4j.driver(local.uri, neo4j.auth.basic(local.user, local.password));
  // Rows shaped like an investigation's: an id, a number and a short list.
  const query =
    'UNWIND range(1, $rows) AS i ' +
    "RETURN 'acct-' + toString(i) AS id, i * 7 AS requests, [i, i + 1, i + 2] AS hours";
  const times = new Map<number, number[]>(SIZES.map((n) => [n, []]));
  try {
    for (let r = -2; r < rounds; r++) {
      for (const fetchSize of SIZES) {
        const session = driver.session({ defaultAccessMode: neo4j.session.READ, fetchSize });
        const t = performance.now();
        let got = 0;
        await session.executeRead(async (tx) => {
          for await (const record of tx.run(query, { rows: neo4j.int(rows) })) {
            if (record.get('id') !== null) got++;
          }
        });
        const ms = performance.now() - t;
        await session.close();
        if (got !== rows) throw new Error(`fetch size ${fetchSize}: ${got} rows, not ${rows}`);
        if (r >= 0) times.get(fetchSize)?.push(ms); // the first two rounds warm up
      }
    }
  } finally {
    await driver.close();
    await local.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const base = quantile(times.get(50) ?? [], 0.5);
  console.log(`${rows} rows per query, ${rounds} rounds, load ${os.loadavg()[0]?.toFixed(2)}`);
  console.log('fetch size  median ms  p90 ms  median / fetch size 50');
  for (const n of SIZES) {
    const xs = times.get(n) ?? [];
    const med = quantile(xs, 0.5);
    console.log(
      `${String(n).padStart(10)}  ${med.toFixed(1).padStart(9)}  ${quantile(xs, 0.9).toFixed(1).padStart(6)}  ${(med / base).toFixed(2).padStart(6)}`,
    );
  }
}

runBench(main);
