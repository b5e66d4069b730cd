import { AccountTableBuilder } from '../../../src/linkage/account-table';
import { build } from '../../../src/linkage/build';
import { detect } from '../../../src/linkage/detect';
import { score } from '../../../src/linkage/score';
import type { AccountFacts } from '../../../src/linkage/types';
import { DAY, T0, all, background, makeInput, people, plant, randomHex, rng } from './fixtures';
import { plainFacts } from '../../support/facts';

/** The same facts as columns, through the builder extract uses. */
function asTable(accounts: readonly AccountFacts[]): AccountFacts[] {
  const table = new AccountTableBuilder();
  for (const a of accounts) {
    table.add({
      ...a,
      hourKeys: a.hours.keys,
      hourCounts: a.hours.counts,
      models: a.models.map((m) => ({ ...m, hourKeys: m.hours.keys, hourCounts: m.hours.counts })),
    });
  }
  return table.finish();
}

describe('account table', () => {
  it('stores one account per row and reads it back sorted', () => {
    const table = new AccountTableBuilder();
    table.add({
      id: 'a',
      signupAt: null,
      firstSeen: 10,
      lastSeen: 20,
      requests: 7,
      emailDomain: null,
      org: 'org-1',
      hourKeys: [500, 100, 300, 100],
      hourCounts: [5, 1, 3, 2],
      models: [
        { name: 'm-z', count: 2, firstUse: 15, hourKeys: [9, 8], hourCounts: [1, 1] },
        { name: 'm-a', count: 5, firstUse: 11, hourKeys: [], hourCounts: [] },
      ],
      capabilities: [
        { name: 'tool_use', count: 1 },
        { name: 'coding', count: 6 },
      ],
    });
    table.add({
      id: 'b',
      signupAt: 3,
      firstSeen: 3,
      lastSeen: 4,
      requests: 0,
      emailDomain: 'x.example',
      org: null,
      hourKeys: [],
      hourCounts: [],
      models: [],
      capabilities: [],
    });
    expect(table.length).toBe(2);
    const [a, b] = table.finish();
    expect(plainFacts(a!)).toEqual<AccountFacts>({
      id: 'a',
      signupAt: null,
      firstSeen: 10,
      lastSeen: 20,
      requests: 7,
      // ascending keys; equal keys keep their stored order
      hours: { keys: [100, 100, 300, 500], counts: [1, 2, 3, 5] },
      emailDomain: null,
      org: 'org-1',
      models: [
        { name: 'm-a', count: 5, firstUse: 11, hours: { keys: [], counts: [] } },
        { name: 'm-z', count: 2, firstUse: 15, hours: { keys: [8, 9], counts: [1, 1] } },
      ],
      capabilities: [
        { name: 'coding', count: 6 },
        { name: 'tool_use', count: 1 },
      ],
    });
    expect(plainFacts(b!)).toEqual<AccountFacts>({
      id: 'b',
      signupAt: 3,
      firstSeen: 3,
      lastSeen: 4,
      requests: 0,
      hours: { keys: [], counts: [] },
      emailDomain: 'x.example',
      org: null,
      models: [],
      capabilities: [],
    });
  });

  it('hands out copies: writing to what a view returned changes nothing stored', () => {
    const [a] = asTable(makeInput(people('w', 1, 3, plant.capability('coding'))).accounts);
    // a deep copy: plainFacts shares the view's hours and capabilities objects
    const before = structuredClone(plainFacts(a!));
    expect(before.capabilities.length).toBeGreaterThan(0);
    expect(before.hours.counts.length).toBeGreaterThan(0);
    const hours = a!.hours;
    hours.keys.push(1);
    hours.counts[0] = -1;
    a!.models.pop();
    const caps = a!.capabilities;
    caps[0]!.count = 1e9;
    expect(plainFacts(a!)).toEqual(before);
  });

  it('build, detect and score give the same result on views as on plain objects', () => {
    // a population touching every signal that reads the facts: bursts, schedules,
    // a pivot to the new model, capabilities, org and domain, volume
    const ring = people(
      'ring',
      20,
      5,
      all(
        plant.sharedCard('ring-card'),
        plant.burst(T0 - 3 * DAY),
        plant.aroundTheClock(),
        plant.pivot(6, 0.6),
        plant.capability('reasoning'),
        plant.volume(15),
        plant.template(randomHex(rng(77)), 40),
      ),
    );
    const team = people(
      'team',
      15,
      6,
      all(
        plant.sharedCard('team-card'),
        plant.sharedSubnet('203.0.113', 4),
        plant.org('org-team'),
        plant.domain('team.example'),
        plant.spreadSignups(200, 15),
        plant.officeHours(),
        plant.slowAdoption(),
      ),
    );
    const fixture = makeInput([...ring, ...team, ...background(200, 9)]);
    const views = { ...fixture, accounts: asTable(fixture.accounts) };
    // the same facts as plain objects, models and capabilities sorted as the table keeps them
    const byName = (x: { name: string }, y: { name: string }) => x.name.localeCompare(y.name);
    const plain = {
      ...fixture,
      accounts: fixture.accounts.map((a) => ({
        ...a,
        models: [...a.models].sort(byName),
        capabilities: [...a.capabilities].sort(byName),
      })),
    };
    expect(views.accounts.map(plainFacts)).toEqual(plain.accounts);

    const graph = build(plain, { seed: 3 });
    const { source, target, weight } = build(views, { seed: 3 });
    expect({ source, target, weight }).toEqual({
      source: graph.source,
      target: graph.target,
      weight: graph.weight,
    });
    const detection = detect(graph, { seed: 3, minClusterSize: 3 });
    const expected = score(plain, detection, { seed: 3 });
    expect(expected.some((c) => c.flagged)).toBe(true);
    expect(expected.some((c) => (c.signals.pivot_share_24h ?? 0) > 0)).toBe(true);
    expect(score(views, detection, { seed: 3 })).toEqual(expected);
  });
});
