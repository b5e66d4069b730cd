/**
 * The analyst API over a REAL published linkage run (runLinkage: extract, build,
 * detect, score, publish), not a hand-written one: membership, the ranked list,
 * detail and graph agree with what the run wrote behind the pointer; a benign
 * verdict allow-lists the cluster's shared values and the next run reads them;
 * membership answers follow the pointer to the new run as soon as this process's run
 * swaps it, however long the replica's CURRENT_RUN_CHECK_MS.
 */
import { runLinkage } from '../../src/linkage/runner';
import { startTestNeo4j, type TestNeo4j } from '../support/neo4j';
import { postJson, startService, type TestService } from '../support/service';
import { API_KEYS, RING, auth, getJson, ingestWorld } from '../support/analyst-fixtures';

let neo4j: TestNeo4j;
let svc: TestService;

beforeAll(async () => {
  neo4j = await startTestNeo4j();
  // Checked once an hour: the runs below are this replica's own, and it must follow each
  // as soon as it swaps, not at its next check.
  svc = await startService(neo4j, {
    API_KEYS,
    CURRENT_RUN_CHECK_MS: '3600000',
    LINKAGE_CRON: 'off',
  });
  await ingestWorld(svc.url);
});

afterAll(async () => {
  await svc?.stop();
  await neo4j?.stop();
});

const get = (path: string) => getJson(`${svc.url}${path}`, auth('analyst'));

/** account id → cluster id, as the current run published it. */
async function publishedMembership(): Promise<Map<string, string>> {
  const res = await neo4j.driver.executeQuery(
    `MATCH (p:Pointer {name: 'current'})
     MATCH (a:Account)-[:MEMBER_OF]->(c:Cluster) WHERE c.runId = p.runId
     RETURN a.id AS account, c.id AS cluster`,
  );
  return new Map(res.records.map((r) => [r.get('account') as string, r.get('cluster') as string]));
}

describe('over a real linkage run', () => {
  let runId: string;
  let ringCluster: string;

  beforeAll(async () => {
    const summary = await runLinkage(svc.ctx, { trigger: 'api' });
    expect(summary.status).toBe('succeeded');
    runId = summary.runId;
  });

  it('membership answers what the run published, for every account', async () => {
    const published = await publishedMembership();
    for (const id of [...RING, 'ben:0', 'ben:1', 'solo:0']) {
      const res = await get(`/v1/accounts/${id}/cluster`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ accountId: id, runId });
      const cluster = res.body.cluster as { id: string } | null;
      expect([id, cluster?.id ?? null]).toEqual([id, published.get(id) ?? null]);
    }
    // The ring is one cluster.
    const ids = new Set(RING.map((id) => published.get(id)));
    expect(ids.size).toBe(1);
    ringCluster = [...ids][0] as string;
    expect(ringCluster).toBeDefined();
  });

  it('the list, the detail and the graph agree with the run', async () => {
    const list = await get('/v1/clusters');
    expect(list.body.runId).toBe(runId);
    expect((list.body.clusters as { id: string }[]).map((c) => c.id)).toContain(ringCluster);
    const detail = await get(`/v1/clusters/${ringCluster}`);
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({ id: ringCluster, runId, current: true, size: 6 });
    expect((detail.body.members as { id: string }[]).map((m) => m.id).sort()).toEqual(RING);
    const shared = detail.body.sharedIdentifiers as {
      kind: string;
      value: string;
      members: number;
    }[];
    expect(shared.length).toBeGreaterThan(0);
    expect(shared.map((s) => s.value)).toContain('pm-ring');
    expect(typeof (detail.body.signals as Record<string, number>).size).toBe('number');
    expect((detail.body.history as { runs: { runId: string }[] }).runs.map((r) => r.runId)).toEqual(
      [runId],
    );
    const graph = await get(`/v1/clusters/${ringCluster}/graph`);
    expect(graph.body.capped).toBe(false);
    const nodes = (graph.body.nodes as { id: string }[]).map((n) => n.id);
    expect(nodes).toEqual(
      expect.arrayContaining([...RING.map((id) => `account:${id}`), 'payment:pm-ring']),
    );
  });

  it("a benign verdict allow-lists the cluster's shared values; the next run reads them", async () => {
    const detail = await get(`/v1/clusters/${ringCluster}`);
    const shared = detail.body.sharedIdentifiers as { kind: string; value: string }[];
    const res = await postJson(
      `${svc.url}/v1/clusters/${ringCluster}/verdict`,
      {
        verdict: 'benign',
        note: 'a test lab',
        allowlistSharedValues: true,
        runId: detail.body.runId,
      },
      auth('admin'),
    );
    expect(res.status).toBe(201);
    expect((res.body.allowlisted as unknown[]).length).toBe(shared.length);

    const allowlist = await get('/v1/allowlist');
    const fromVerdict = (
      allowlist.body.entries as { kind: string; value: string; source: string }[]
    )
      .filter((e) => e.source === 'verdict')
      .map((e) => `${e.kind}:${e.value}`)
      .sort();
    expect(fromVerdict).toEqual(shared.map((s) => `${s.kind}:${s.value}`).sort());

    const second = await runLinkage(svc.ctx, { trigger: 'api' });
    expect(second.status).toBe('succeeded');
    // Membership and the list follow the pointer to the new run at once (checked hourly).
    const member = await get(`/v1/accounts/${RING[0] as string}/cluster`);
    expect(member.body.runId).toBe(second.runId);
    expect((await get('/v1/clusters')).body.runId).toBe(second.runId);
    const published = await publishedMembership();
    expect((member.body.cluster as { id: string } | null)?.id ?? null).toBe(
      published.get(RING[0] as string) ?? null,
    );
    // With every shared value allow-listed, the ring no longer links as before.
    const stillTogether = new Set(RING.map((id) => published.get(id) ?? `none:${id}`));
    expect(stillTogether.size).toBeGreaterThan(1);
    // The verdict stays in the cluster's history.
    const after = await get(`/v1/clusters/${ringCluster}`);
    expect((after.body.history as { verdicts: { verdict: string }[] }).verdicts).toEqual([
      expect.objectContaining({ verdict: 'benign', by: 'adm', runId }),
    ]);
  });
});
