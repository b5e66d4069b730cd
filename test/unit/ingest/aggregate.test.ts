import { Aggregator, aggregate } from '../../../src/ingest/aggregate';
import type { CleanEvent } from '../../../src/ingest/event-schema';
import { Rng } from '../../../src/simulate/rng';

const T0 = Date.parse('2026-02-01T10:15:00Z');
const H = 3_600_000;

function ev(partial: Partial<CleanEvent>): CleanEvent {
  return { type: 'request', accountId: 'a', at: T0, ...partial };
}

describe('aggregate', () => {
  const rows = aggregate([
    ev({ type: 'signup', at: T0 - H, ip: '10.0.0.1', emailDomain: 'corp.example', org: 'o1' }),
    ev({
      ip: '10.0.0.1',
      promptFingerprint: 'aaaaaaaaaaaaaaaa',
      model: 'm1',
      capability: 'coding',
    }),
    ev({
      at: T0 + 10,
      ip: '10.0.0.2',
      promptFingerprint: 'aaaaaaaaaaaaaaaa',
      model: 'm1',
      capability: 'coding',
    }),
    ev({ at: T0 + 2 * H, model: 'm2', capability: 'reasoning' }),
    ev({ accountId: 'b', type: 'payment', paymentMethod: 'pm1' }),
    ev({ accountId: 'b', at: T0 + 5 * H, type: 'payment', paymentMethod: 'pm1' }),
  ]);

  it('folds events into one row per account, sorted by id', () => {
    expect(rows.accounts.map((a) => a.id)).toEqual(['a', 'b']);
    const a = rows.accounts[0]!;
    expect(a).toMatchObject({
      firstSeen: T0 - H,
      lastSeen: T0 + 2 * H,
      signupAt: T0 - H,
      requests: 3,
      emailDomain: 'corp.example',
      org: 'o1',
    });
    const hour = Math.floor(T0 / H);
    expect(a.hourKeys).toEqual([hour, hour + 2]);
    expect(a.hourCounts).toEqual([2, 1]);
    expect(rows.accounts[1]).toMatchObject({ requests: 0, signupAt: null, hourKeys: [] });
  });

  it('aggregates each shared value into one link with count and first/last seen', () => {
    expect(rows.ip).toEqual([
      {
        accountId: 'a',
        value: '10.0.0.1',
        count: 2,
        firstSeen: T0 - H,
        lastSeen: T0,
        subnet: '10.0.0.0/24',
      },
      {
        accountId: 'a',
        value: '10.0.0.2',
        count: 1,
        firstSeen: T0 + 10,
        lastSeen: T0 + 10,
        subnet: '10.0.0.0/24',
      },
    ]);
    expect(rows.prompt).toEqual([
      { accountId: 'a', value: 'aaaaaaaaaaaaaaaa', count: 2, firstSeen: T0, lastSeen: T0 + 10 },
    ]);
    expect(rows.payment).toEqual([
      { accountId: 'b', value: 'pm1', count: 2, firstSeen: T0, lastSeen: T0 + 5 * H },
    ]);
    expect(rows.emailDomain).toHaveLength(1);
    expect(rows.org).toHaveLength(1);
    expect(rows.device).toEqual([]);
  });

  it('keeps model use with first use and hours, and capability counts', () => {
    expect(rows.models.map((m) => [m.model, m.count, m.firstUse, m.hourKeys.length])).toEqual([
      ['m1', 2, T0, 1],
      ['m2', 1, T0 + 2 * H, 1],
    ]);
    expect(rows.capabilities).toEqual([
      { accountId: 'a', capability: 'coding', count: 2 },
      { accountId: 'a', capability: 'reasoning', count: 1 },
    ]);
  });

  it('is empty for no events', () => {
    const empty = aggregate([]);
    expect(empty.accounts).toEqual([]);
    expect(empty.models).toEqual([]);
  });
});

describe('Aggregator.merge', () => {
  /** Events over 6 accounts with colliding times, some naming a domain, an org or both. */
  function randomEvents(rng: Rng, n: number): CleanEvent[] {
    const types = ['signup', 'request', 'request', 'payment'] as const;
    return Array.from({ length: n }, () => {
      const e: CleanEvent = {
        type: types[rng.int(types.length)] as CleanEvent['type'],
        accountId: `acct-${rng.int(6)}`,
        at: T0 + rng.int(40) * (H / 4),
        ip: `10.0.${rng.int(3)}.${rng.int(4)}`,
      };
      if (rng.int(3) === 0) e.emailDomain = `d${rng.int(4)}.example`;
      if (rng.int(3) === 0) e.org = `org-${rng.int(4)}`;
      if (rng.int(2) === 0) e.model = `model-${rng.int(3)}`;
      if (rng.int(2) === 0) e.capability = `cap-${rng.int(3)}`;
      if (rng.int(2) === 0) e.promptFingerprint = rng.int(5).toString(16).padStart(16, '0');
      if (rng.int(4) === 0) e.paymentMethod = `card-${rng.int(3)}`;
      return e;
    });
  }

  it('folds of any split of the events, merged in any order, equal the fold of the whole', () => {
    const rng = new Rng(7);
    for (let round = 0; round < 40; round++) {
      const events = randomEvents(rng, 200);
      const whole = aggregate(events);
      // Each event to a random part, each part's events shuffled: nothing about the
      // order of the input may change the result (REST, the importer and the first
      // load write the same events in different orders and batches).
      const parts = [new Aggregator(), new Aggregator(), new Aggregator()];
      for (const e of rng.shuffle([...events])) (parts[rng.int(3)] as Aggregator).add(e);
      // A random part takes the other two, in a random order.
      const [into, ...others] = rng.shuffle(parts);
      for (const other of others) (into as Aggregator).merge(other);
      expect((into as Aggregator).rows()).toEqual(whole);
    }
  });

  it('survives a structured clone (a worker thread hands its fold over that way)', () => {
    const events = randomEvents(new Rng(3), 100);
    const fold = new Aggregator();
    for (const e of events) fold.add(e);
    expect(Aggregator.fromState(structuredClone(fold.state())).rows()).toEqual(aggregate(events));
  });

  it('newest by time decides the domain and the org separately; on a tie the greater value, in any order', () => {
    const events = [
      ev({ at: T0 + 5, emailDomain: 'x.example' }),
      ev({ at: T0 + 7, org: 'o-tie' }),
      ev({ at: T0 + 6, emailDomain: 'z.example' }),
      ev({ at: T0 + 7, org: 'o-late' }),
      ev({ at: T0 + 6, emailDomain: 'y.example' }),
    ];
    for (const order of [events, [...events].reverse()]) {
      expect(aggregate(order).accounts[0]).toMatchObject({
        emailDomain: 'z.example',
        emailDomainAt: T0 + 6,
        org: 'o-tie',
        orgAt: T0 + 7,
      });
    }
  });
});
