/**
 * Co-activity end to end (events over REST → Neo4j → a linkage run → the analyst API): a
 * ring whose accounts each pay with their own card, share no device and send every
 * prompt paraphrased apart (no two within the near-duplicate distance), but work the
 * same hours through the same six proxy subnets, comes out as one flagged cluster. The
 * proxies' ordinary customers and a carrier's NAT users spread over six /24s, each in
 * hours of their own, stay out of it. With co-activity off (coActivityBands 0) the ring
 * is no cluster at all: nothing else links it.
 */
import type { TestNeo4j } from '../support/neo4j';
import { auth, getJson } from '../support/analyst-fixtures';
import {
  clusterOf,
  clustersWithWeights,
  runLinkageOverApi,
  startIngested,
} from '../support/api-run';
import { rng } from '../support/linkage-fixtures';
import type { TestService } from '../support/service';

const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
const ids = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${prefix}-${String(i + 1).padStart(2, '0')}`);

const RING = ids('ca-ring', 10);
const CUSTOMERS = ids('ca-proxy', 60);
const CARRIER = ids('ca-carrier', 30);
/** Six proxy exits in six /24s. */
const PROXIES = [
  '203.0.113.8',
  '198.51.100.8',
  '192.0.2.8',
  '100.64.1.8',
  '100.64.2.8',
  '100.64.3.8',
];
const START = Date.parse('2026-03-02T00:00:00Z');

/** A fingerprint of its own: far from every other (k distinct ⇒ no near-duplicates). */
function ownPrompt(k: number): string {
  return ((BigInt(k + 11) * 0x9e3779b97f4a7c15n) & 0xffffffffffffffffn)
    .toString(16)
    .padStart(16, '0');
}

/** A sign-up at `at` from `ip` (webmail), and a card of the account's own an hour later. */
function join(out: Record<string, unknown>[], id: string, at: number, ip: string): void {
  out.push({ type: 'signup', accountId: id, at: iso(at), ip, emailDomain: 'gmail.com' });
  out.push({ type: 'payment', accountId: id, at: iso(at + HOUR), paymentMethod: `pm-${id}` });
}

function events() {
  const out: Record<string, unknown>[] = [];
  let prompt = 0;
  // The ring: sign-ups within an hour, a card each; for three days, waves every hour, each
  // member in four of five of them, two requests a wave, each prompt its own.
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
      if ((h + i) % 5 === 0) continue;
      for (let k = 0; k < 2; k++) {
        out.push({
          type: 'request',
          accountId: id,
          at: iso(START + h * HOUR + (i + k) * 60_000),
          ip: PROXIES[(i + h + k) % 6],
          promptFingerprint: ownPrompt(prompt++),
          model: 'model-a',
          capability: 'reasoning',
        });
      }
    }
  });
  // The proxies' customers: four proxies each (five requests on each, so they take part),
  // their own prompts, a card each, and hours of their own over the four weeks around the
  // ring's three days. (A customer whose every hour fell inside those three days would
  // be linked: SIGNALS.md, "Co-activity", its edge.)
  CUSTOMERS.forEach((id, i) => {
    const draw = rng(1000 + i);
    join(out, id, START - 90 * 24 * HOUR + i * 24 * HOUR, PROXIES[i % 6] as string);
    for (let r = 0; r < 20; r++) {
      out.push({
        type: 'request',
        accountId: id,
        at: iso(START + (Math.floor(draw() * 28 * 24) - 14 * 24) * HOUR + i * 60_000),
        ip: PROXIES[(i + (r % 4)) % 6],
        promptFingerprint: ownPrompt(prompt++),
        model: 'model-a',
        capability: 'chat',
      });
    }
  });
  // A carrier's NAT users: every request from one of six carrier /24s, in 30 daytime hours
  // of their own over three weeks.
  CARRIER.forEach((id, i) => {
    const draw = rng(2000 + i);
    join(out, id, START - 60 * 24 * HOUR + i * 24 * HOUR, `100.80.${i % 6}.1`);
    for (let r = 0; r < 30; r++) {
      const day = Math.floor(draw() * 21);
      const hour = 8 + Math.floor(draw() * 12);
      out.push({
        type: 'request',
        accountId: id,
        at: iso(START + (day * 24 + hour) * HOUR + i * 60_000),
        ip: `100.80.${r % 6}.${1 + (i % 50)}`,
        promptFingerprint: ownPrompt(prompt++),
        model: 'model-a',
        capability: 'chat',
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

it('links and flags a ring of own cards and prompts through its hours and proxy subnets, and nobody else', async () => {
  await runLinkageOverApi(svc.url);
  const ring = await Promise.all(RING.map((id) => clusterOf(svc.url, id)));
  const first = ring[0];
  expect(first).toMatchObject({ flagged: true, size: RING.length });
  expect(ring.every((c) => c?.id === first?.id)).toBe(true);
  // Nobody else is in any cluster: they take part (four or more subnets each) but their
  // hours are their own.
  for (const id of [...CUSTOMERS, ...CARRIER])
    expect([id, await clusterOf(svc.url, id)]).toEqual([id, null]);
  const detail = await getJson(`${svc.url}/v1/clusters/${first?.id}`, auth('analyst'));
  const reasons = (detail.body.reasons as { code: string }[]).map((r) => r.code);
  // No shared card or template among the reasons: what it shares is its proxies' subnets
  // and its hours.
  expect(reasons).toEqual(
    expect.arrayContaining(['shared_subnet', 'signup_burst', 'synchronised_activity']),
  );
  expect(reasons).not.toContain('shared_payment_method');
  expect(reasons).not.toContain('shared_prompt_template');
});

it('without co-activity the same ring is not a cluster at all', async () => {
  // a second service on the same store, the rule turned off
  const clusters = await clustersWithWeights(neo4j, '{"build": {"coActivityBands": 0}}', RING);
  for (const [id, cluster] of clusters) expect([id, cluster]).toEqual([id, null]);
});
