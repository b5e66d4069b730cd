/**
 * A small planted world for the linkage integration tests, as events for
 * POST /v1/events: two distillation rings, a benign company, a family sharing
 * one gift card, and independent individuals. Deterministic (seeded), so every
 * run of the tests plants the same graph.
 *
 *  - ring A (ra-01…08): one card shared by all (a second by half), three proxy IPs
 *    in 203.0.113.0/24, near-duplicate prompt fingerprints (≤ 2 bits apart), sign-ups
 *    within an hour, requests every hour around the clock, all "reasoning";
 *  - ring B (rb-01…08): the same pattern on its own card, 198.51.100.0/24 proxies
 *    and template, "coding", and it moves to model-new within hours of its release;
 *  - company (co-01…08): one corporate card, one office IP, org and e-mail domain,
 *    sign-ups spread over months, office hours, varied prompts and capabilities;
 *  - family (fa-01…04): share only the gift card `pm-family-gift`, nothing else
 *    (the allow-list test removes exactly that link);
 *  - individuals (in-01…10): nothing shared.
 */

export const RELEASE = Date.parse('2026-02-10T00:00:00Z');

export interface PlantedEvent {
  type: 'signup' | 'request' | 'payment';
  accountId: string;
  at: string;
  ip?: string;
  paymentMethod?: string;
  promptFingerprint?: string;
  model?: string;
  capability?: string;
  org?: string;
  device?: string;
  emailDomain?: string;
}

export interface PlantedWorld {
  events: PlantedEvent[];
  groups: {
    ringA: string[];
    ringB: string[];
    company: string[];
    family: string[];
    individuals: string[];
  };
}

export const FAMILY_CARD = 'pm-family-gift';

/** mulberry32: a small seeded stream for fixtures (the product's streams are in src/linkage/rng.ts). */
export function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();
const ids = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${prefix}-${String(i + 1).padStart(2, '0')}`);

/** A 16-hex fingerprint with the given bits flipped. */
function flip(hex: string, bits: number[]): string {
  let v = BigInt(`0x${hex}`);
  for (const b of bits) v ^= 1n << BigInt(b);
  return v.toString(16).padStart(16, '0');
}

/** A well-spread random 16-hex fingerprint. */
function randomFingerprint(next: () => number): string {
  let s = '';
  for (let i = 0; i < 4; i++)
    s += Math.floor(next() * 0x10000)
      .toString(16)
      .padStart(4, '0');
  return s;
}

export function plantWorld(): PlantedWorld {
  const next = rng(20260205);
  const events: PlantedEvent[] = [];
  const groups = {
    ringA: ids('ra', 8),
    ringB: ids('rb', 8),
    company: ids('co', 8),
    family: ids('fa', 4),
    individuals: ids('in', 10),
  };

  const ring = (
    members: string[],
    opts: {
      start: number;
      cards: [string, string];
      ips: string[];
      template: string;
      capability: string;
      pivot?: boolean;
    },
  ) => {
    const variants = [[], [3], [17], [40, 41]].map((bits) => flip(opts.template, bits));
    members.forEach((id, i) => {
      const signup = opts.start + i * 6 * 60_000;
      events.push({
        type: 'signup',
        accountId: id,
        at: iso(signup),
        ip: opts.ips[i % opts.ips.length],
        emailDomain: 'gmail.com',
      });
      events.push({
        type: 'payment',
        accountId: id,
        at: iso(signup + 60_000),
        paymentMethod: opts.cards[0],
      });
      if (i < members.length / 2)
        events.push({
          type: 'payment',
          accountId: id,
          at: iso(signup + 120_000),
          paymentMethod: opts.cards[1],
        });
      for (let h = 1; h <= 72; h++) {
        const at = signup + h * HOUR + Math.floor(next() * 30) * 60_000;
        events.push({
          type: 'request',
          accountId: id,
          at: iso(at),
          ip: opts.ips[(i + h) % opts.ips.length],
          promptFingerprint: variants[(i + h) % variants.length],
          model: opts.pivot && at >= RELEASE + 2 * HOUR ? 'model-new' : 'model-a',
          capability: opts.capability,
        });
      }
    });
  };

  ring(groups.ringA, {
    start: Date.parse('2026-02-03T01:00:00Z'),
    cards: ['pm-ring-a-1', 'pm-ring-a-2'],
    ips: ['203.0.113.10', '203.0.113.11', '203.0.113.12'],
    template: 'a3c1f00d5e7b9124',
    capability: 'reasoning',
  });
  ring(groups.ringB, {
    start: Date.parse('2026-02-08T20:00:00Z'),
    cards: ['pm-ring-b-1', 'pm-ring-b-2'],
    ips: ['198.51.100.20', '198.51.100.21', '198.51.100.22'],
    template: '5d2e9ab4c70f1386',
    capability: 'coding',
    pivot: true,
  });

  // The company: months of sign-ups, office hours on weekdays, varied work.
  const capabilities = ['coding', 'writing', 'reasoning', 'analysis'];
  groups.company.forEach((id, i) => {
    const signup = Date.parse('2025-09-01T10:00:00Z') + i * 17 * DAY;
    events.push({
      type: 'signup',
      accountId: id,
      at: iso(signup),
      ip: '192.0.2.10',
      emailDomain: 'acme.example',
      org: 'org-acme',
    });
    events.push({
      type: 'payment',
      accountId: id,
      at: iso(signup + HOUR),
      paymentMethod: 'pm-acme-corporate',
    });
    for (let r = 0; r < 30; r++) {
      let day = Date.parse('2026-01-05T00:00:00Z') + Math.floor(next() * 30) * DAY;
      const weekday = new Date(day).getUTCDay();
      if (weekday === 0) day += DAY;
      if (weekday === 6) day += 2 * DAY;
      const at = day + (9 + Math.floor(next() * 8)) * HOUR + Math.floor(next() * 60) * 60_000;
      events.push({
        type: 'request',
        accountId: id,
        at: iso(at),
        ip: '192.0.2.10',
        promptFingerprint: randomFingerprint(next),
        model: 'model-a',
        capability: capabilities[Math.floor(next() * capabilities.length)],
      });
    }
  });

  // The family (one gift card, nothing else) and the individuals (nothing shared).
  const loner = (id: string, k: number, card: string) => {
    const signup = Date.parse('2025-10-01T12:00:00Z') + Math.floor(next() * 100) * DAY;
    const ip = `10.${20 + k}.${k * 3}.7`;
    events.push({ type: 'signup', accountId: id, at: iso(signup), ip, emailDomain: 'gmail.com' });
    events.push({ type: 'payment', accountId: id, at: iso(signup + HOUR), paymentMethod: card });
    for (let r = 0; r < 10; r++) {
      const at =
        signup + (1 + Math.floor(next() * 60)) * DAY + (8 + Math.floor(next() * 12)) * HOUR;
      events.push({
        type: 'request',
        accountId: id,
        at: iso(at),
        ip,
        promptFingerprint: randomFingerprint(next),
        model: 'model-a',
        capability: capabilities[Math.floor(next() * capabilities.length)],
      });
    }
  };
  groups.family.forEach((id, i) => loner(id, i, FAMILY_CARD));
  groups.individuals.forEach((id, i) => loner(id, 10 + i, `pm-own-${id}`));
  // model-new appears at its release (an individual is first), which ring B then adopts.
  events.push({
    type: 'request',
    accountId: 'in-01',
    at: iso(RELEASE),
    ip: '10.30.30.7',
    model: 'model-new',
    capability: 'writing',
  });

  return { events, groups };
}
