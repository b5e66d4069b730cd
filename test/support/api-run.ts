/**
 * Linkage runs end to end over the API, for tests that plant a world in events: a real
 * Neo4j and a service with those events ingested over REST, a run started over
 * POST /v1/linkage/runs and awaited, and the cluster each account is in.
 */
import { startTestNeo4j, type TestNeo4j } from './neo4j';
import { API_KEYS, auth, getJson } from './analyst-fixtures';
import { postJson, startService, type TestService } from './service';

type Cluster = { id: string; flagged: boolean; size: number };

/** A real Neo4j and a service (no cron) on it, with `events` ingested over REST. */
export async function startIngested(
  events: Record<string, unknown>[],
): Promise<{ neo4j: TestNeo4j; svc: TestService }> {
  const neo4j = await startTestNeo4j();
  const svc = await startService(neo4j, {
    API_KEYS,
    LINKAGE_CRON: 'off',
    CURRENT_RUN_CHECK_MS: '0',
  });
  const res = await postJson(`${svc.url}/v1/events`, { events }, auth('ingest'));
  if (res.status !== 200) throw new Error(`POST /v1/events: ${res.status}`);
  return { neo4j, svc };
}

/** Starts a linkage run over the API and waits (up to 60 s) until it has succeeded. */
export async function runLinkageOverApi(url: string): Promise<void> {
  const started = await postJson(`${url}/v1/linkage/runs`, {}, auth('admin'));
  if (started.status !== 202) throw new Error(`POST /v1/linkage/runs: ${started.status}`);
  const runId = (started.body as { runId: string }).runId;
  for (const until = Date.now() + 60_000; Date.now() < until;) {
    const r = await getJson(`${url}/v1/linkage/runs/${runId}`, auth('analyst'));
    if (r.body.status !== 'running') {
      if (r.body.status !== 'succeeded')
        throw new Error(`run ${runId} ended ${String(r.body.status)}: ${JSON.stringify(r.body)}`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`run ${runId} did not end in 60 s`);
}

/** The cluster an account is in (GET /v1/accounts/{id}/cluster), or null. */
export async function clusterOf(url: string, id: string): Promise<Cluster | null> {
  const r = await getJson(`${url}/v1/accounts/${id}/cluster`, auth('analyst'));
  return (r.body as { cluster: Cluster | null }).cluster;
}

/**
 * With a second service on the same store, run with LINKAGE_WEIGHTS `weights`: the
 * cluster of each of `ids` after its run, as [id, cluster or null].
 */
export async function clustersWithWeights(
  neo4j: TestNeo4j,
  weights: string,
  ids: string[],
): Promise<[string, Cluster | null][]> {
  const other = await startService(neo4j, {
    API_KEYS,
    LINKAGE_CRON: 'off',
    CURRENT_RUN_CHECK_MS: '0',
    LINKAGE_WEIGHTS: weights,
  });
  try {
    await runLinkageOverApi(other.url);
    const out: [string, Cluster | null][] = [];
    for (const id of ids) out.push([id, await clusterOf(other.url, id)]);
    return out;
  } finally {
    await other.stop();
  }
}
