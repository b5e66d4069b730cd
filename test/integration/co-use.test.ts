/**
 * Co-use end to end (events over REST → Neo4j → a linkage run → the analyst API): a
 * ring whose accounts each pay with their own card and share no device, but send one
 * template from the same six proxy subnets, comes out as one flagged cluster; the
 * proxies' ordinary customers and the template's ordinary senders stay out of it.
 * A second service with co-use turned off (coUseMaxPerKind 0) finds no
 * cluster at all: co-use is what links this ring.
 */
import type { TestNeo4j } from '../support/neo4j';
import { auth, getJson } from '../support/analyst-fixtures';
import {
  clusterOf,
  clustersWithWeights,
  runLinkageOverApi,
  startIngested,
} from '../support/api-run';
import type { TestService } from '../support/service';

const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
const ids = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${prefix}-${String(i + 1).padStart(2, '0')}`);

const RING = ids('cu-ring', 10);
// Enough of each that the template (50 senders) and every proxy IP (about 30 users) are
// common values, which never link on their own.
const CUSTOMERS = ids('cu-proxy', 60);
const SENDERS = ids('cu-sender', 40);
/** Six proxy exits in six /24s. */
const PROXIES = [
  '203.0.113.7',
  '198.51.100.7',
  '192.0.2.7',
  '100.64.1.7',
  '100.64.2.7',
  '100.64.3.7',
];
const TEMPLATE = 'c0ffee00d15ea5e1';
const START = Date.parse('2026-03-02T00:00:00Z');

/** A fingerprint far from TEMPLATE and from each other (no near-duplicates). */
function ownPrompt(k: number): string {
  return ((BigInt(k + 11) * 0x9e3779b97f4a7c15n) & 0xffffffffffffffffn)
    .toString(16)
    .padStart(16, '0');
}

function events() {
  const out: Record<string, unknown>[] = [];
  // The ring: sign-ups within an hour, a card each, every hour for three days,
  // the template (and near-duplicates of it) over the six proxies.
  RING.forEach((id, i) => {
    const signup = START + i * 5 * 60_000;
    out.push({
      type: 'signup',
      accountId: id,
      at: iso(signup),
      ip: PROXIES[i % 6],
      emailDomain: 'gmail.com',
    });
    out.push({
      type: 'payment',
      accountId: id,
      at: iso(signup + 60_000),
      paymentMethod: `pm-${id}`,
    });
    for (let h = 1; h <= 72; h++) {
      out.push({
        type: 'request',
        accountId: id,
        at: iso(signup + h * HOUR),
        ip: PROXIES[(i + h) % 6],
        promptFingerprint: h % 3 === 0 ? 'c0ffee00d15ea5e3' : TEMPLATE,
        model: 'model-a',
        capability: 'reasoning',
      });
    }
  });
  // The proxies' customers: two proxies each, their own prompts, a card each.
  CUSTOMERS.forEach((id, i) => {
    const signup = START - 90 * 24 * HOUR + i * 24 * HOUR;
    out.push({
      type: 'signup',
      accountId: id,
      at: iso(signup),
      ip: PROXIES[i % 6],
      emailDomain: 'gmail.com',
    });
    out.push({ type: 'payment', accountId: id, at: iso(signup + HOUR), paymentMethod: `pm-${id}` });
    for (let r = 0; r < 20; r++) {
      out.push({
        type: 'request',
        accountId: id,
        at: iso(START + r * 7 * HOUR + i * 60_000),
        ip: PROXIES[(i + (r % 2)) % 6],
        promptFingerprint: ownPrompt(i * 100 + r),
        model: 'model-a',
        capability: 'chat',
      });
    }
  });
  // The template's ordinary senders: heavy on it, each from a home network of their own.
  SENDERS.forEach((id, i) => {
    const home = `10.${40 + i}.${i}.9`;
    const signup = START - 80 * 24 * HOUR + i * 2 * 24 * HOUR;
    out.push({
      type: 'signup',
      accountId: id,
      at: iso(signup),
      ip: home,
      emailDomain: 'gmail.com',
    });
    out.push({ type: 'payment', accountId: id, at: iso(signup + HOUR), paymentMethod: `pm-${id}` });
    for (let r = 0; r < 30; r++) {
      out.push({
        type: 'request',
        accountId: id,
        at: iso(START + r * 5 * HOUR + i * 60_000),
        ip: home,
        promptFingerprint: TEMPLATE,
        model: 'model-a',
        capability: 'coding',
      });
    }
  });
  return out;
}

let neo4j: TestNeo4j;
let svc: TestService;

beforeAll(async () => {
  ({ neo4j, svc } = await startIngested(events()));
});

afterAll(async () => {
  await svc?.stop();
  await neo4j?.stop();
});

it('links and flags a ring of own cards through its template and proxy subnets, and nobody else', async () => {
  await runLinkageOverApi(svc.url);
  const ring = await Promise.all(RING.map((id) => clusterOf(svc.url, id)));
  const first = ring[0];
  expect(first).toMatchObject({ flagged: true, size: RING.length });
  expect(ring.every((c) => c?.id === first?.id)).toBe(true);
  for (const id of [...CUSTOMERS, ...SENDERS]) {
    const c = await clusterOf(svc.url, id);
    expect([id, c?.id === first?.id, c?.flagged ?? false]).toEqual([id, false, false]);
  }
  const detail = await getJson(`${svc.url}/v1/clusters/${first?.id}`, auth('analyst'));
  const reasons = (detail.body.reasons as { code: string }[]).map((r) => r.code);
  // No shared card among the reasons (a device has no reason of its own): what it shares
  // is its proxies' subnets, and its behaviour (the template is popular outside it, so
  // it does not count here).
  expect(reasons).toEqual(
    expect.arrayContaining(['shared_subnet', 'signup_burst', 'synchronised_activity']),
  );
  expect(reasons).not.toContain('shared_payment_method');
});

it('without co-use the same ring is not a cluster at all', async () => {
  // a second service on the same store, the rule turned off: no account takes part
  const clusters = await clustersWithWeights(neo4j, '{"build": {"coUseMaxPerKind": 0}}', RING);
  for (const [id, cluster] of clusters) expect([id, cluster]).toEqual([id, null]);
});
