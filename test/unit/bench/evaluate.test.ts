// The quality figures on a hand-made truth and clusters, by the definitions in
// bench/quality/evaluate.ts and bench/RESULTS.md: recall, benign flag rate, precision,
// members-weighted purity of flagged clusters, per-group rates, the pivot figures.
import {
  type EvalCluster,
  type TruthRow,
  PIVOT_CODE,
  evaluate,
  formatEvaluation,
} from '../../../bench/quality/evaluate';

function truthOf(rows: [string, string][]): Map<string, TruthRow> {
  const truth = new Map<string, TruthRow>();
  for (const [id, group] of rows) {
    const kind = group.startsWith('campaign:') ? 'campaign' : 'benign';
    truth.set(id, { group, kind, subgroup: '' });
  }
  return truth;
}

const cluster = (members: string[], flagged: boolean, pivot = false): EvalCluster => ({
  members,
  flagged,
  risk: flagged ? 0.9 : 0.1,
  reasons: pivot ? [{ code: PIVOT_CODE, value: 1 }] : [],
});

describe('evaluate', () => {
  // 7 campaign accounts (5 coding, 2 agentic), 6 benign (4 individual, 2 company).
  const truth = truthOf([
    ['c1', 'campaign:coding'],
    ['c2', 'campaign:coding'],
    ['c3', 'campaign:coding'],
    ['c4', 'campaign:coding'],
    ['c5', 'campaign:coding'],
    ['a1', 'campaign:agentic'],
    ['a2', 'campaign:agentic'],
    ['b1', 'benign:individual'],
    ['b2', 'benign:individual'],
    ['b3', 'benign:individual'],
    ['b4', 'benign:individual'],
    ['k1', 'benign:company'],
    ['k2', 'benign:company'],
  ]);
  const clusters = [
    cluster(['c1', 'c2', 'c3', 'b1', 'k1'], true, true), // mostly coding, 3 of 5
    cluster(['a1', 'a2', 'c4'], true), // mostly agentic, 2 of 3
    cluster(['b2', 'b3', 'zz'], false, true), // not flagged; zz is not in the truth
  ];
  const e = evaluate(truth, clusters, ['campaign:coding']);

  it('counts accounts and clusters', () => {
    expect([e.accounts, e.campaignAccounts, e.benignAccounts]).toEqual([13, 7, 6]);
    expect([e.clusters, e.flaggedClusters, e.accountsInClusters, e.accountsFlagged]).toEqual([
      3, 2, 11, 8,
    ]);
    expect(e.unknownAccounts).toBe(1);
  });

  it('recall, benign flag rate and precision count accounts in flagged clusters only', () => {
    // c5 is in no cluster; b2, b3 are in an unflagged one.
    expect(e.recall).toBeCloseTo(6 / 7, 12);
    expect(e.benignFlagRate).toBeCloseTo(2 / 6, 12);
    // Precision counts any campaign (c4 in the agentic cluster too); purity does not.
    expect(e.precision).toBeCloseTo(6 / 8, 12);
  });

  it('weighs purity by members: the largest truth group of each flagged cluster over their sizes', () => {
    expect(e.purity).toBeCloseTo((3 + 2) / (5 + 3), 12);
    expect(e.worstPurity).toBeCloseTo(3 / 5, 12);
    expect(e.impureClusters).toBe(2);
  });

  it('gives every group its flag rate and names the worst benign group', () => {
    const rate = new Map(e.groups.map((g) => [g.group, [g.accounts, g.inClusters, g.flagged]]));
    expect(rate.get('campaign:coding')).toEqual([5, 4, 4]);
    expect(rate.get('campaign:agentic')).toEqual([2, 2, 2]);
    expect(rate.get('benign:individual')).toEqual([4, 3, 1]);
    expect(rate.get('benign:company')).toEqual([2, 1, 1]);
    expect(e.worstBenignGroup?.group).toBe('benign:company');
    expect(e.worstBenignGroup?.rate).toBe(0.5);
  });

  it("counts the pivoting campaign's flagged accounts whose cluster carries the pivot, and false pivots", () => {
    // Coding members of flagged clusters: 3 with the reason, c4 without.
    expect(e.pivot.flaggedAccounts).toBe(4);
    expect(e.pivot.withPivotReason).toBe(3);
    expect(e.pivot.share).toBe(0.75);
    expect([e.pivot.flaggedClusters, e.pivot.clustersWithPivot]).toEqual([1, 1]);
    // The unflagged benign cluster carries the reason: a false pivot.
    expect(e.pivot.falsePivotClusters).toBe(1);
  });

  it('gives neutral figures when nothing is flagged', () => {
    const none = evaluate(truth, [cluster(['c1', 'b1'], false)], []);
    expect([none.recall, none.benignFlagRate, none.precision, none.purity]).toEqual([0, 0, 0, 1]);
  });
});

describe('evaluate: benign subgroups', () => {
  // 2 campaign accounts; benign: 6 plain individuals, 3 proxy users, 2 company staff.
  const rows: [string, string, string][] = [
    ['c1', 'campaign:coding', 'coding-sg001'],
    ['c2', 'campaign:coding', 'coding-sg001'],
    ['p1', 'benign:individual', 'plain'],
    ['p2', 'benign:individual', 'plain'],
    ['p3', 'benign:individual', 'plain'],
    ['p4', 'benign:individual', 'plain'],
    ['p5', 'benign:individual', 'plain'],
    ['p6', 'benign:individual', 'plain'],
    ['x1', 'benign:individual', 'proxy_user'],
    ['x2', 'benign:individual', 'proxy_user'],
    ['x3', 'benign:individual', 'proxy_user'],
    ['k1', 'benign:company', 'company-1'],
    ['k2', 'benign:company', 'company-1'],
  ];
  const truth = new Map<string, TruthRow>(
    rows.map(([id, group, subgroup]) => [
      id,
      { group, kind: group.startsWith('campaign:') ? 'campaign' : 'benign', subgroup },
    ]),
  );
  // The campaign's cluster takes in two proxy users (on its IPs) and a company account.
  const e = evaluate(
    truth,
    [cluster(['c1', 'c2', 'x1', 'x2', 'k1'], true), cluster(['p1', 'p2', 'x3'], false)],
    [],
  );

  it("reports the individuals' subgroups and the benign accounts other than plain individuals", () => {
    const seg = new Map(e.segments.map((g) => [g.group, [g.accounts, g.inClusters, g.flagged]]));
    expect(seg.get('benign:individual/proxy_user')).toEqual([3, 3, 2]);
    expect(seg.get('benign:individual/plain')).toEqual([6, 2, 0]);
    expect(seg.get('benign:all but plain individuals')).toEqual([5, 4, 3]);
    expect(e.segments.find((g) => g.group === 'benign:individual/proxy_user')?.rate).toBe(2 / 3);
    // The overall rate dilutes them with the plain individuals; the group only halves them.
    expect(e.benignFlagRate).toBe(3 / 11);
    expect(e.groups.find((g) => g.group === 'benign:individual')?.rate).toBe(2 / 9);
  });

  it('prints them beside the group figures', () => {
    const md = formatEvaluation(e);
    expect(md).toContain('| benign:individual/proxy_user | 3 | 3 | 2 | 66.67 % |');
    expect(md).toContain('| benign:all but plain individuals | 5 | 4 | 3 | 60.00 % |');
    expect(md).toMatch(
      /\| benign flag rate, all but plain individuals \(5 accounts\) \| 60\.000 % \|/,
    );
    expect(md).toMatch(
      /\| proxy users' flag rate \(benign:individual\/proxy_user, 3 accounts\) \| 66\.67 % \|/,
    );
  });
});
