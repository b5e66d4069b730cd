/**
 * Fixtures for the analyst API tests: API keys for each role, a small world
 * ingested over POST /v1/events (a ring sharing a card, a subnet and near-duplicate
 * prompts; a benign pair; a sign-up burst; a fast move to a new model), and
 * `seedRun`, which publishes a linkage run exactly as cypher/README.md
 * ("Linkage results") describes it: LinkageRun, Cluster {key, id, runId, …},
 * PRODUCED, MEMBER_OF, then the `current` Pointer flipped in one transaction.
 */
import type { Driver } from 'neo4j-driver';
import neo4j from 'neo4j-driver';
import { rankClusters } from '../../src/linkage/publish';
import { hashKey } from '../../src/platform/auth';
import { postJson } from './service';

export const KEYS = {
  ingest: 'ingest-secret-1',
  analyst: 'analyst-secret-1',
  admin: 'admin-secret-1',
  metrics: 'metrics-secret-1',
};

export const API_KEYS = [
  `ing:ingest:${hashKey(KEYS.ingest)}`,
  `ana:analyst:${hashKey(KEYS.analyst)}`,
  `adm:admin:${hashKey(KEYS.admin)}`,
  `met:metrics:${hashKey(KEYS.metrics)}`,
].join(',');

export const auth = (role: keyof typeof KEYS) => ({ authorization: `Bearer ${KEYS[role]}` });

export async function getJson(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    body = { text };
  }
  return { status: res.status, body, headers: res.headers };
}

const HOUR = 3_600_000;
export const T0 = Date.parse('2026-02-01T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

/** Ring accounts ring:0 … ring:5, benign accounts ben:0 … ben:1, loner solo:0. */
export const RING = Array.from({ length: 6 }, (_, i) => `ring:${i}`);
export const BENIGN = ['ben:0', 'ben:1'];
export const PROMPT_BASE = '0123456789abcdef';
/** Near-duplicates of PROMPT_BASE at Hamming distance 0, 1, 2 (last hex digits differ). */
export const RING_PROMPTS = ['0123456789abcdef', '0123456789abcdee', '0123456789abcdec'];

export function worldEvents() {
  const events: Record<string, unknown>[] = [];
  RING.forEach((id, i) => {
    // Sign-up burst: all six within 12 minutes.
    events.push({
      type: 'signup',
      accountId: id,
      at: iso(T0 + i * 2 * 60_000),
      ip: `203.0.113.${10 + i}`,
      emailDomain: 'mail.example',
    });
    events.push({ type: 'payment', accountId: id, at: iso(T0 + HOUR), paymentMethod: 'pm-ring' });
    // Before the new model exists: traffic on model-old.
    events.push({
      type: 'request',
      accountId: id,
      at: iso(T0 + 2 * HOUR),
      ip: `203.0.113.${10 + i}`,
      promptFingerprint: RING_PROMPTS[i % 3],
      model: 'model-old',
      capability: 'reasoning',
    });
  });
  // model-new first appears at T0 + 10h (ben:0); the ring moves to it two hours later,
  // which is its release as model_pivot_24h takes it (the third account to use it).
  events.push({ type: 'request', accountId: 'ben:0', at: iso(T0 + 10 * HOUR), model: 'model-new' });
  for (const id of RING) {
    for (let k = 0; k < 3; k++) {
      events.push({
        type: 'request',
        accountId: id,
        at: iso(T0 + 12 * HOUR + k * 60_000),
        model: 'model-new',
        promptFingerprint: PROMPT_BASE,
      });
    }
  }
  // Benign pair: an office IP and a corporate card.
  BENIGN.forEach((id) => {
    events.push({
      type: 'signup',
      accountId: id,
      at: iso(T0 - 30 * 24 * HOUR),
      ip: '198.51.100.7',
    });
    events.push({ type: 'payment', accountId: id, at: iso(T0), paymentMethod: 'pm-corp' });
    events.push({
      type: 'request',
      accountId: id,
      at: iso(T0 + 11 * HOUR),
      ip: '198.51.100.7',
      model: 'model-old',
    });
  });
  events.push({
    type: 'signup',
    accountId: 'solo:0',
    at: iso(T0 - 90 * 24 * HOUR),
    ip: '192.0.2.1',
  });
  return events;
}

export async function ingestWorld(url: string): Promise<void> {
  const res = await postJson(`${url}/v1/events`, { events: worldEvents() }, auth('ingest'));
  if (res.status !== 200) throw new Error(`ingest failed: ${JSON.stringify(res.body)}`);
}

export interface SeedCluster {
  id: string;
  risk: number;
  flagged: boolean;
  members: string[];
  reasons?: { code: string; value: number }[];
  signals?: Record<string, number>;
  sharedIdentifiers?: { kind: string; value: string; members: number }[];
  change?: string;
  from?: string[];
}

/** Publishes a succeeded run with these clusters and makes it current. */
export async function seedRun(
  driver: Driver,
  runId: string,
  clusters: SeedCluster[],
  startedAt = Date.now(),
  /** the previous run's clusters this one retired, as publish records them */
  dissolved: { clusterId: string; change: 'merged' | 'dissolved'; into: string[] }[] = [],
): Promise<void> {
  // Ranked by publish's own ranking: the rank-order tests then test it (review, 12-07).
  const ranks = rankClusters(clusters);
  const rows = clusters.map((c) => ({
    key: `${runId}/${c.id}`,
    id: c.id,
    risk: c.risk,
    flagged: c.flagged,
    size: neo4j.int(c.members.length),
    rank: neo4j.int(ranks.get(c.id) as number),
    reasons: JSON.stringify(c.reasons ?? []),
    signals: JSON.stringify(c.signals ?? { size: c.members.length }),
    sharedIdentifiers: JSON.stringify(c.sharedIdentifiers ?? []),
    change: c.change ?? 'new',
    from: c.from ?? [],
    members: c.members,
  }));
  const session = driver.session();
  try {
    await session.executeWrite(async (tx) => {
      await tx.run(
        `CREATE (r:LinkageRun {id: $runId, status: 'succeeded', phase: 'done', progress: 1.0,
           trigger: 'api', seed: 42, startedAt: $startedAt, finishedAt: $startedAt + 1000,
           params: '{}', stats: '{}', timings: '{}', dissolved: $dissolved})
         WITH r
         UNWIND $rows AS row
         CREATE (r)-[:PRODUCED]->(c:Cluster {key: row.key, id: row.id, runId: $runId,
           risk: row.risk, flagged: row.flagged, size: row.size, rank: row.rank,
           reasons: row.reasons, signals: row.signals, sharedIdentifiers: row.sharedIdentifiers,
           change: row.change, from: row.from})
         WITH c, row
         UNWIND row.members AS accountId
         MATCH (a:Account {id: accountId})
         CREATE (a)-[:MEMBER_OF]->(c)`,
        {
          runId,
          startedAt: neo4j.int(startedAt),
          rows,
          dissolved: JSON.stringify(dissolved.map((d) => ({ ...d, from: [] }))),
        },
      );
      // As the swap does (make-run-current.cypher): the version one up at every flip.
      await tx.run(
        `MERGE (p:Pointer {name: 'current'})
         SET p.previousRunId = p.runId, p.runId = $runId, p.version = coalesce(p.version, 0) + 1`,
        { runId },
      );
    });
  } finally {
    await session.close();
  }
}

export const RING_CLUSTER: SeedCluster = {
  id: 'c-ring',
  risk: 0.93,
  flagged: true,
  members: RING,
  reasons: [
    { code: 'shared_payment', value: 0.9 },
    { code: 'shared_prompt_template', value: 0.93 },
  ],
  signals: { size: 6, payment_accounts_max: 6, risk: 0.93 },
  sharedIdentifiers: [
    { kind: 'payment', value: 'pm-ring', members: 6 },
    { kind: 'subnet', value: '203.0.113.0/24', members: 6 },
  ],
};

export const BENIGN_CLUSTER: SeedCluster = {
  id: 'c-office',
  risk: 0.12,
  flagged: false,
  members: BENIGN,
  reasons: [{ code: 'benign_office_hours', value: -0.4 }],
  sharedIdentifiers: [
    { kind: 'payment', value: 'pm-corp', members: 2 },
    { kind: 'ip', value: '198.51.100.7', members: 2 },
  ],
};
