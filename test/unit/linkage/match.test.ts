import { DEFAULTS, matchClusters, MatchResult } from '../../../src/linkage/match';
import type { ScoredCluster } from '../../../src/linkage/types';

/** Accounts are named a0, a1, …; clusters are given as index ranges. */
const ACCOUNTS = Array.from({ length: 2000 }, (_, i) => `a${i}`);

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

function prev(id: string, members: number[]): { id: string; members: string[] } {
  return { id, members: members.map((i) => ACCOUNTS[i] as string) };
}

function cur(members: number[]): ScoredCluster {
  return { members, risk: 0.5, flagged: false, reasons: [], signals: {}, sharedIdentifiers: [] };
}

function ids(): () => string {
  let n = 0;
  return () => `new-${++n}`;
}

function summary(result: MatchResult): string[] {
  return result.clusters.map(
    (c) =>
      `${c.id}:${c.lineage.change}${c.lineage.from.length ? `<${c.lineage.from.join('+')}` : ''}`,
  );
}

describe('matchClusters', () => {
  it('gives every cluster a fresh id on the first run', () => {
    const r = matchClusters([], [cur(range(0, 10)), cur(range(10, 20))], ACCOUNTS, ids());
    expect(summary(r)).toEqual(['new-1:new', 'new-2:new']);
    expect(r.dissolved).toEqual([]);
    expect(r.clusters[0]?.lineage.clusterId).toBe('new-1');
    expect(r.clusters[0]?.members).toEqual(range(0, 10));
  });

  it('keeps ids through renumbering: stable, grew, shrank', () => {
    const previous = [prev('A', range(0, 10)), prev('B', range(10, 20)), prev('C', range(20, 30))];
    const current = [
      cur(range(20, 28)),
      cur(range(0, 10)),
      cur([...range(10, 20), ...range(30, 35)]),
    ];
    const r = matchClusters(previous, current, ACCOUNTS, ids());
    expect(summary(r)).toEqual(['C:shrank', 'A:stable', 'B:grew']);
    expect(r.dissolved).toEqual([]);
  });

  it('one former member of a small cluster carries neither its id nor its lineage into a crowd', () => {
    // P had 3 accounts: one (a quarter or more of P) is now in a community of 500
    // strangers, the other two in none. Found by review: P's id (and its verdicts)
    // passed to the 500 as "grew".
    const previous = [prev('P', [1000, 1001, 1002])];
    const r = matchClusters(previous, [cur([1000, ...range(0, 499)])], ACCOUNTS, ids());
    expect(summary(r)).toEqual(['new-1:new']);
    expect(r.dissolved).toEqual([{ clusterId: 'P', change: 'dissolved', from: [], into: [] }]);
    // two of 8 into the crowd: a quarter of P, still not a cluster's worth
    const eight = matchClusters(
      [prev('Q', range(1000, 1008))],
      [cur([1000, 1001, ...range(0, 498)])],
      ACCOUNTS,
      ids(),
    );
    expect(summary(eight)).toEqual(['new-1:new']);
    // one of a pair (LINKAGE_MIN_CLUSTER_SIZE=2 makes pairs): the floor is never one account
    const pair = matchClusters(
      [prev('P', [1000, 1001])],
      [cur([1000, ...range(0, 499)])],
      ACCOUNTS,
      ids(),
      { minOverlap: 2 },
    );
    expect(summary(pair)).toEqual(['new-1:new']);
  });

  it('one former member never passes an id, even when it is a quarter of the new cluster', () => {
    // Found by review: {a,b,c} → {a,x,y} kept P as "stable", and a 4-account P the same
    // way as "shrank"; one account was a third of the new cluster.
    for (const members of [range(1000, 1003), range(1000, 1004)]) {
      const r = matchClusters([prev('P', members)], [cur([1000, 0, 1])], ACCOUNTS, ids());
      expect(summary(r)).toEqual(['new-1:new']);
      expect(r.dissolved).toEqual([{ clusterId: 'P', change: 'dissolved', from: [], into: [] }]);
    }
    // two of eight with six strangers: a quarter both ways, below the floor of three;
    // a fresh id that names P as where it came from
    const eight = matchClusters(
      [prev('P', range(1000, 1008))],
      [cur([1000, 1001, ...range(0, 6)])],
      ACCOUNTS,
      ids(),
    );
    expect(summary(eight)).toEqual(['new-1:split<P']);
    expect(eight.dissolved).toEqual([
      { clusterId: 'P', change: 'merged', from: [], into: ['new-1'] },
    ]);
  });

  it('a quarter of a cluster carries its id into a crowd only as half of it', () => {
    // Found by review: 3 of a 12-account ring in a community of 1,000 kept the ring's id
    // (and verdicts) as "grew". It is a fresh cluster now, split from the ring.
    const crowd = matchClusters(
      [prev('R', range(1000, 1012))],
      [cur([1000, 1001, 1002, ...range(0, 997)])],
      ACCOUNTS,
      ids(),
    );
    expect(summary(crowd)).toEqual(['new-1:split<R']);
    expect(crowd.dissolved).toEqual([
      { clusterId: 'R', change: 'merged', from: [], into: ['new-1'] },
    ]);
    // a ring that grew fivefold keeps its id: all of it is there
    const grew = matchClusters(
      [prev('R', range(1000, 1012))],
      [cur([...range(1000, 1012), ...range(0, 48)])],
      ACCOUNTS,
      ids(),
    );
    expect(summary(grew)).toEqual(['R:grew']);
    // half of it is enough: 6 of 12 in a community of 100
    const half = matchClusters(
      [prev('R', range(1000, 1012))],
      [cur([...range(1000, 1006), ...range(0, 94)])],
      ACCOUNTS,
      ids(),
    );
    expect(summary(half)).toEqual(['R:grew']);
  });

  it('a small cluster keeps its id when its members are a quarter of the new one, or a cluster of them', () => {
    // {a,b,c} → {a,b,d,e}: two accounts, but half of the new cluster
    const half = matchClusters(
      [prev('P', [1000, 1001, 1002])],
      [cur([1000, 1001, 1500, 1501])],
      ACCOUNTS,
      ids(),
    );
    expect(summary(half)).toEqual(['P:grew']);
    // all three of P inside a larger community: a cluster's worth (minOverlap 3)
    const whole = matchClusters(
      [prev('P', [1000, 1001, 1002])],
      [cur([1000, 1001, 1002, ...range(0, 97)])],
      ACCOUNTS,
      ids(),
    );
    expect(summary(whole)).toEqual(['P:grew']);
    // two of three (half of P) in a community of 20: neither a quarter of it nor a
    // cluster's worth, so P's id (and its verdicts) stay out of the crowd; the community
    // reads "split" from P, which is its source (a review had found P "dissolved", and
    // a later one the id carried into a crowd of 1,000 by two former members)
    for (const size of [20, 1000]) {
      const twoOfThree = matchClusters(
        [prev('P', [1000, 1001, 1002])],
        [cur([1000, 1001, ...range(0, size - 2)])],
        ACCOUNTS,
        ids(),
      );
      expect(summary(twoOfThree)).toEqual(['new-1:split<P']);
      expect(twoOfThree.dissolved).toEqual([
        expect.objectContaining({ clusterId: 'P', into: [twoOfThree.clusters[0]?.id] }),
      ]);
    }
    // three of five in a crowd of 1,000: half of P and a cluster's worth
    const threeOfFive = matchClusters(
      [prev('P', range(1000, 1005))],
      [cur([...range(1000, 1003), ...range(0, 997)])],
      ACCOUNTS,
      ids(),
    );
    expect(summary(threeOfFive)).toEqual(['P:grew']);
    // the floor never asks for more than half of P, whatever the minimum cluster size
    const nineOfTwelve = matchClusters(
      [prev('P', range(1000, 1012))],
      [cur([...range(1000, 1009), ...range(0, 31)])],
      ACCOUNTS,
      ids(),
      { minOverlap: 10 },
    );
    expect(summary(nineOfTwelve)).toEqual(['P:grew']);
    const allFour = matchClusters(
      [prev('P', range(1000, 1004))],
      [cur([...range(1000, 1004), ...range(0, 20)])],
      ACCOUNTS,
      ids(),
      { minOverlap: 5 },
    );
    expect(summary(allFour)).toEqual(['P:grew']);
  });

  it('records a merge: the larger previous cluster keeps its id, the other is retired into it', () => {
    const previous = [prev('A', range(0, 10)), prev('B', range(10, 16))];
    const r = matchClusters(previous, [cur(range(0, 16))], ACCOUNTS, ids());
    expect(summary(r)).toEqual(['A:merged<A+B']);
    expect(r.dissolved).toEqual([{ clusterId: 'B', change: 'merged', from: [], into: ['A'] }]);
  });

  it('names a remnant in from on a merge, after the id kept by a cluster that came whole', () => {
    // P: 100 members, 20 of them (20 %, under minShare) make most of X; Q and R come
    // whole. A cluster that came whole keeps its id before a remnant (since 12-04: X
    // kept P's id, the largest overlap, and Q's verdicts went to P's); P is a source.
    const previous = [
      prev('P', range(0, 100)),
      prev('Q', range(100, 104)),
      prev('R', range(104, 108)),
    ];
    const r = matchClusters(
      previous,
      [cur([...range(0, 20), ...range(100, 108)])],
      ACCOUNTS,
      ids(),
    );
    expect(summary(r)).toEqual(['Q:merged<Q+P+R']);
    expect(r.dissolved).toEqual([
      { clusterId: 'P', change: 'merged', from: [], into: ['Q'] },
      { clusterId: 'R', change: 'merged', from: [], into: ['Q'] },
    ]);
  });

  it('a small cluster that came whole keeps its id against a larger remnant, which it names', () => {
    // Q: 200 members, 12 of them (6 %) are most of X; all 8 of P joined them. P keeps
    // its id (since 12-04; Q's did before, and P's verdicts went to Q's).
    const previous = [prev('Q', range(0, 200)), prev('P', range(200, 208))];
    const r = matchClusters(
      previous,
      [cur([...range(0, 12), ...range(200, 208)])],
      ACCOUNTS,
      ids(),
    );
    expect(summary(r)).toEqual(['P:merged<P+Q']);
    expect(r.dissolved).toEqual([{ clusterId: 'Q', change: 'merged', from: [], into: ['P'] }]);
  });

  it('gives a tied overlap to the closer match (higher Jaccard), whatever the order', () => {
    // Both X and Y hold 10 of P's 20 members; Y is just those 10, X has 20 others too.
    const previous = [prev('P', range(0, 20))];
    const x = cur([...range(0, 10), ...range(200, 220)]);
    const y = cur(range(10, 20));
    for (const current of [
      [x, y],
      [y, x],
    ]) {
      const r = matchClusters(previous, current, ACCOUNTS, ids());
      expect(r.clusters.find((c) => c.id === 'P')?.members).toEqual(y.members);
    }
  });

  it('records a split: the largest part keeps the id, other parts are new with from', () => {
    const previous = [prev('A', range(0, 30))];
    const current = [cur(range(20, 30)), cur(range(0, 20))];
    const r = matchClusters(previous, current, ACCOUNTS, ids());
    expect(summary(r)).toEqual(['new-1:split<A', 'A:split<A']);
    expect(r.dissolved).toEqual([]);
  });

  it('records a dissolved cluster and a new one', () => {
    const previous = [prev('A', range(0, 10)), prev('B', range(10, 20))];
    const current = [cur(range(0, 10)), cur(range(100, 110))];
    const r = matchClusters(previous, current, ACCOUNTS, ids());
    expect(summary(r)).toEqual(['A:stable', 'new-1:new']);
    expect(r.dissolved).toEqual([{ clusterId: 'B', change: 'dissolved', from: [], into: [] }]);
  });

  it('does not pass an id on through a few stragglers', () => {
    // 3 of A's 40 members end up in an unrelated big cluster; the rest are unclustered
    const previous = [prev('A', range(0, 40))];
    const r = matchClusters(previous, [cur([0, 1, 2, ...range(100, 160)])], ACCOUNTS, ids());
    expect(summary(r)).toEqual(['new-1:new']);
    expect(r.dissolved).toEqual([{ clusterId: 'A', change: 'dissolved', from: [], into: [] }]);
  });

  it('a remnant of a vanished cluster does not take the id of a cluster that is whole in the new one', () => {
    // Review, 12-04: 4 of P1's 1,000 (P1 contributes nowhere) outranked all 3 of P2 by
    // overlap, so P2 (and its verdicts) was retired into a cluster that kept P1's id.
    const previous = [prev('P1', range(0, 1000)), prev('P2', range(1000, 1003))];
    const r = matchClusters(previous, [cur([0, 1, 2, 3, 1000, 1001, 1002])], ACCOUNTS, ids());
    expect(summary(r)).toEqual(['P2:merged<P2+P1']);
    expect(r.dissolved).toEqual([{ clusterId: 'P1', change: 'merged', from: [], into: ['P2'] }]);
  });

  it('keeps the id when a cluster mostly lost members to no cluster', () => {
    // 15 of A's 100 remain together and make up the whole of the new cluster
    const previous = [prev('A', range(0, 100))];
    const r = matchClusters(previous, [cur(range(0, 15))], ACCOUNTS, ids());
    expect(summary(r)).toEqual(['A:shrank']);
  });

  it('handles merge and split together (members of A and B reshuffled into two clusters)', () => {
    const previous = [prev('A', range(0, 20)), prev('B', range(20, 40))];
    // X: 12 of A + 12 of B; Y: 8 of A + 8 of B
    const current = [
      cur([...range(0, 12), ...range(20, 32)]),
      cur([...range(12, 20), ...range(32, 40)]),
    ];
    const r = matchClusters(previous, current, ACCOUNTS, ids());
    // ties on overlap and Jaccard go to the smaller previous id: X keeps A, Y keeps B
    // the kept id first in each lineage (match.ts's header)
    expect(summary(r)).toEqual(['A:merged<A+B', 'B:merged<B+A']);
    expect(r.dissolved).toEqual([]);
  });

  it('breaks ties deterministically and draws fresh ids in cluster order', () => {
    const previous = [prev('B', range(0, 10)), prev('A', range(10, 20))];
    // one current cluster with equal halves of A and B
    const run = (): MatchResult =>
      matchClusters(previous, [cur(range(100, 105)), cur(range(0, 20))], ACCOUNTS, ids());
    const r1 = run();
    const r2 = run();
    expect(r1).toEqual(r2);
    expect(summary(r1)).toEqual(['new-1:new', 'A:merged<A+B']);
    expect(r1.dissolved).toEqual([{ clusterId: 'B', change: 'merged', from: [], into: ['A'] }]);
  });

  it('is independent of the order of previous clusters and their members, ties included', () => {
    // X holds equal halves of A and B, Y of C and D: only the tie-break decides who keeps
    // the id, so an order-dependent one (first listed wins) shows under the shuffles
    const previous = [
      prev('A', range(0, 10)),
      prev('B', range(10, 20)),
      prev('C', range(20, 25)),
      prev('D', range(25, 30)),
      prev('E', range(30, 37)),
    ];
    const current = [cur(range(0, 20)), cur(range(20, 30)), cur(range(30, 40))];
    const a = matchClusters(previous, current, ACCOUNTS, ids());
    expect(summary(a)).toEqual(['A:merged<A+B', 'C:merged<C+D', 'E:grew']);
    const orders = [
      [...previous].reverse(),
      [...previous.slice(3), ...previous.slice(0, 3)],
      [previous[1], previous[3], previous[0], previous[4], previous[2]],
    ];
    for (const order of orders) {
      const shuffled = order.map((p) => ({ id: p!.id, members: [...p!.members].reverse() }));
      const b = matchClusters(shuffled, current, ACCOUNTS, ids());
      expect(summary(b)).toEqual(summary(a));
      expect(b.dissolved).toEqual(a.dissolved);
    }
  });

  it("does not pass a big cluster's id to a small one through a former member or two", () => {
    // P: 1,000 members, vanished; one of them is in a new 4-account cluster (1/4 of it),
    // two in a new 3-account one (a majority, but under minOverlap accounts). Neither
    // may take P's id, and so its verdicts: P is dissolved.
    const previous = [prev('P', range(0, 1000))];
    const current = [cur([0, ...range(1500, 1503)]), cur([1, 2, 1503])];
    const r = matchClusters(previous, current, ACCOUNTS, ids());
    expect(summary(r)).toEqual(['new-1:new', 'new-2:new']);
    expect(r.dissolved).toEqual([{ clusterId: 'P', change: 'dissolved', from: [], into: [] }]);
  });

  it('retires a cluster whose bulk joined one that kept another id, rather than leave its id to a fragment', () => {
    // P: 100 members; 80 join Q (1,000), 10 are most of a 12-member fragment. P merged
    // into Q, so the fragment is a part split off P, with a fresh id.
    const previous = [prev('P', range(0, 100)), prev('Q', range(100, 1100))];
    const current = [
      cur([...range(0, 80), ...range(100, 1100)]),
      cur([...range(80, 90), 1500, 1501]),
    ];
    const r = matchClusters(previous, current, ACCOUNTS, ids());
    expect(summary(r)).toEqual(['Q:merged<Q+P', 'new-1:split<P']);
    expect(r.dissolved).toEqual([
      { clusterId: 'P', change: 'merged', from: [], into: ['Q', 'new-1'] },
    ]);
  });

  it('records a split into five parts (each under minShare of the ring) as a split on every part', () => {
    const previous = [prev('A', range(0, 100))];
    const current = [0, 1, 2, 3, 4].map((k) => cur(range(k * 20, k * 20 + 20)));
    const r = matchClusters(previous, current, ACCOUNTS, ids());
    expect(summary(r)).toEqual([
      'A:split<A',
      'new-1:split<A',
      'new-2:split<A',
      'new-3:split<A',
      'new-4:split<A',
    ]);
    expect(r.dissolved).toEqual([]);
  });

  it("takes minOverlap from the options: an overlap of fewer accounts keeps no id on the current cluster's share", () => {
    // as 'keeps the id when a cluster mostly lost members to no cluster': 15 of A's 100
    const previous = [prev('A', range(0, 100))];
    const keep = matchClusters(previous, [cur(range(0, 15))], ACCOUNTS, ids(), { minOverlap: 15 });
    expect(summary(keep)).toEqual(['A:shrank']);
    const lose = matchClusters(previous, [cur(range(0, 15))], ACCOUNTS, ids(), { minOverlap: 16 });
    expect(summary(lose)).toEqual(['new-1:new']);
    expect(lose.dissolved).toEqual([{ clusterId: 'A', change: 'dissolved', from: [], into: [] }]);
  });

  it('passes an id only where verdicts stay with their accounts, and lineage agrees both ways (random runs)', () => {
    // An id moves to c only when c took ≥ minShare of p and a cluster's worth of it, or
    // (p gave no cluster that much) most of c and ≥ minOverlap accounts came from p. A retired cluster's `into`
    // is exactly the clusters that name it in `from`.
    const { minShare, minOverlap } = DEFAULTS;
    let seed = 7; // xorshift32: the same runs every time
    const rand = (n: number): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const seen = { ofPrevious: 0, ofCurrent: 0, mergedInto: 0, split: 0 };
    for (let round = 0; round < 200; round++) {
      // previous clusters of 3–200 members; each scatters over a few current clusters
      // (some shared with other previous clusters), unevenly, losing some members;
      // current clusters take in some accounts no previous cluster had
      const previous: { id: string; members: string[] }[] = [];
      const groups: number[][] = Array.from({ length: 1 + rand(8) }, () => []);
      let next = 0;
      const count = 1 + rand(8);
      for (let i = 0; i < count; i++) {
        const members = range(next, Math.min(1500, next + 3 + rand(1 + rand(198))));
        next += members.length;
        previous.push(prev(`p${i}`, members));
        const targets = Array.from({ length: 1 + rand(6) }, () => rand(groups.length));
        const kept = rand(3) === 0 ? 15 : 75; // % of members still in a cluster
        for (const a of members) {
          if (rand(100) >= kept) continue;
          const t = rand(3) === 0 ? rand(targets.length) : 0; // mostly into the first
          groups[targets[t]!]!.push(a);
        }
      }
      for (const g of groups)
        for (let k = rand(3) === 0 ? rand(40) : 0; k > 0; k--) g.push(1500 + rand(500));
      const current = groups
        .map((g) => [...new Set(g)])
        .filter((g) => g.length >= 3)
        .map((g) => cur(g));
      const r = matchClusters(previous, current, ACCOUNTS, ids());
      const before = new Map(previous.map((p) => [p.id, new Set(p.members)]));
      const overlap = (p: string, c: number[]): number =>
        c.filter((a) => before.get(p)!.has(ACCOUNTS[a]!)).length;
      const substantialAnywhere = (p: string): boolean =>
        current.some((c) => overlap(p, c.members) >= minShare * before.get(p)!.size);
      for (const c of r.clusters) {
        if (!before.has(c.id)) continue;
        const o = overlap(c.id, c.members);
        const size = before.get(c.id)!.size;
        // a quarter of p and a cluster's worth of it (half of a small p), never one account
        const floor = Math.max(2, Math.min(minOverlap, Math.ceil(size / 2)));
        // and, when p's members are under a quarter of c, half of p
        const ofPrevious =
          o >= minShare * size && o >= floor && (o >= minShare * c.members.length || 2 * o >= size);
        const ofCurrent = !substantialAnywhere(c.id) && 2 * o > c.members.length && o >= minOverlap;
        expect(ofPrevious || ofCurrent).toBe(true);
        seen[ofPrevious ? 'ofPrevious' : 'ofCurrent']++;
      }
      seen.split += r.clusters.filter((c) => c.lineage.change === 'split').length;
      for (const d of r.dissolved) {
        const naming = r.clusters
          .filter((c) => c.lineage.from.includes(d.clusterId))
          .map((c) => c.id);
        expect([...d.into].sort()).toEqual(naming.sort());
        if (d.into.length > 0) seen.mergedInto++;
      }
    }
    // the runs reach every route (a generator that stopped doing so would test nothing)

    for (const n of Object.values(seen)) expect(n).toBeGreaterThan(20);
  });

  it('carries the scored fields through', () => {
    const scored: ScoredCluster = {
      members: [1, 2, 3],
      risk: 0.91,
      flagged: true,
      reasons: [{ code: 'signup_burst', value: 1 }],
      signals: { size: 3 },
      sharedIdentifiers: [{ kind: 'payment', value: 'card', members: 3 }],
    };
    const [c] = matchClusters([], [scored], ACCOUNTS, ids()).clusters;
    expect(c).toMatchObject({ ...scored, id: 'new-1' });
  });

  it('matches 10,000 clusters over 1,000,000 accounts quickly', () => {
    const n = 1_000_000;
    const accounts = Array.from({ length: n }, (_, i) => `acc-${i}`);
    const previous = Array.from({ length: 10_000 }, (_, k) => ({
      id: `c${k}`,
      members: accounts.slice(k * 100, k * 100 + 100),
    }));
    // shift every cluster by 10 members
    const current = Array.from({ length: 10_000 }, (_, k) =>
      cur(range(k * 100 + 10, Math.min(n, k * 100 + 110))),
    );
    // CPU time, not wall time: a loaded machine slows the clock, not the work
    const start = process.cpuUsage();
    const r = matchClusters(previous, current, accounts, ids());
    expect(cpuMs(start)).toBeLessThan(20_000);
    expect(
      r.clusters.filter((c) => c.id === c.lineage.clusterId && !c.id.startsWith('new')),
    ).toHaveLength(10_000);
  }, 120_000);
});

/** CPU milliseconds this process spent since `start` (a process.cpuUsage() reading). */
function cpuMs(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}
