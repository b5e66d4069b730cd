import { aggregate } from '../../../src/ingest/aggregate';
import type { CleanEvent } from '../../../src/ingest/event-schema';

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
