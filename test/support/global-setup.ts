/**
 * Jest globalSetup for the integration project: builds the neo4j-local launcher once,
 * before any worker starts, so test files never race Maven (each file then starts its
 * own Neo4j through test/support/neo4j.ts).
 */
import { ensureLauncherBuilt } from '../../src/platform/neo4j-local';

export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  let built = false;
  await ensureLauncherBuilt((msg) => {
    built = true;
    process.stderr.write(`${msg}\n`);
  });
  if (built) {
    process.stderr.write(
      `neo4j-local launcher ready in ${((Date.now() - started) / 1000).toFixed(1)}s\n`,
    );
  }
}
