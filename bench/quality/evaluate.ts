/**
 * Scores a linkage run's clusters against the simulator's ground truth (truth.csv).
 * This is the only code that reads the truth file, and it runs only after the
 * linkage run has finished: the detector never sees it.
 *
 * Figures (issue 5, point 2):
 *   recall             campaign accounts in flagged clusters / campaign accounts
 *   benign flag rate   benign accounts in flagged clusters / benign accounts
 *   precision          campaign accounts in flagged clusters / accounts in flagged clusters
 *   per group          flag rate of every benign group and every campaign
 *   segments           flag rate of benign:individual's subgroups (proxy_user: ordinary
 *                      customers of the campaigns' proxy IPs; plain), and of every benign
 *                      account but the plain individuals, who are most of the benign
 *                      accounts (73 % at scale 0.1) and dilute the overall rate
 *   purity             Σ over flagged clusters of their largest truth group / Σ sizes
 *                      (members-weighted), plus the worst cluster and how many are < 0.95
 *   pivot              share of the pivoting campaign's flagged accounts whose cluster
 *                      carries the reason `model_pivot_24h`, and clusters that carry it
 *                      while mostly not of a pivoting campaign (false pivots)
 */
import { readFileSync } from 'node:fs';
import type { Reason } from '../../src/linkage/types';

export interface TruthRow {
  group: string;
  kind: 'campaign' | 'benign';
  subgroup: string;
}

export function readTruth(file: string): Map<string, TruthRow> {
  const truth = new Map<string, TruthRow>();
  const lines = readFileSync(file, 'utf8').split('\n');
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line === '') continue;
    const [id, group, kind, subgroup] = line.split(',');
    if (id === undefined || group === undefined || (kind !== 'campaign' && kind !== 'benign'))
      throw new Error(`truth.csv line ${i + 1}: malformed`);
    truth.set(id, { group, kind, subgroup: subgroup ?? '' });
  }
  return truth;
}

/** The campaigns that pivot to the new model (from the simulator's params.json). */
export function pivotingGroups(paramsFile: string): string[] {
  const params = JSON.parse(readFileSync(paramsFile, 'utf8')) as {
    campaigns: Record<string, { pivotShare?: number }>;
  };
  return Object.entries(params.campaigns)
    .filter(([, c]) => (c.pivotShare ?? 0) > 0)
    .map(([name]) => `campaign:${name}`);
}

/** A published cluster as the bench sees it: member account ids, flag, reasons. */
export interface EvalCluster {
  members: string[];
  flagged: boolean;
  risk: number;
  reasons: Reason[];
}

export interface GroupFigure {
  group: string;
  kind: 'campaign' | 'benign';
  accounts: number;
  inClusters: number;
  flagged: number;
  rate: number;
}

export interface Evaluation {
  accounts: number;
  campaignAccounts: number;
  benignAccounts: number;
  clusters: number;
  flaggedClusters: number;
  accountsInClusters: number;
  accountsFlagged: number;
  recall: number;
  benignFlagRate: number;
  precision: number;
  purity: number;
  worstPurity: number;
  impureClusters: number;
  groups: GroupFigure[];
  /**
   * benign:individual's subgroups (`benign:individual/proxy_user`, `…/plain`), then
   * `benign:all but plain individuals` (SEGMENT_NOT_PLAIN).
   */
  segments: GroupFigure[];
  worstBenignGroup: GroupFigure | null;
  pivot: {
    groups: string[];
    flaggedAccounts: number;
    withPivotReason: number;
    share: number;
    flaggedClusters: number;
    clustersWithPivot: number;
    falsePivotClusters: number;
  };
  /** accounts missing from truth.csv (should be 0) */
  unknownAccounts: number;
}

export const PIVOT_CODE = 'model_pivot_24h';

/** Ordinary customers of the campaigns' proxy IPs (the simulator's subgroup). */
export const SEGMENT_PROXY_USERS = 'benign:individual/proxy_user';
/** Every benign account but the plain individuals. */
export const SEGMENT_NOT_PLAIN = 'benign:all but plain individuals';

const figure = (group: string, kind: GroupFigure['kind']): GroupFigure => ({
  group,
  kind,
  accounts: 0,
  inClusters: 0,
  flagged: 0,
  rate: 0,
});

export function evaluate(
  truth: Map<string, TruthRow>,
  clusters: readonly EvalCluster[],
  pivotGroups: readonly string[],
): Evaluation {
  const clusterOf = new Map<string, number>();
  clusters.forEach((c, i) => {
    for (const id of c.members) clusterOf.set(id, i);
  });
  const byGroup = new Map<string, GroupFigure>();
  const bySegment = new Map<string, GroupFigure>();
  const notPlain = figure(SEGMENT_NOT_PLAIN, 'benign');
  let campaign = 0;
  let benign = 0;
  let campaignFlagged = 0;
  let benignFlagged = 0;
  for (const [id, row] of truth) {
    let g = byGroup.get(row.group);
    if (!g) {
      g = figure(row.group, row.kind);
      byGroup.set(row.group, g);
    }
    const c = clusterOf.get(id);
    const flagged = c !== undefined && (clusters[c] as EvalCluster).flagged;
    const counted = [g];
    if (row.group === 'benign:individual') {
      const name = `${row.group}/${row.subgroup}`;
      let s = bySegment.get(name);
      if (!s) bySegment.set(name, (s = figure(name, 'benign')));
      counted.push(s);
    }
    if (row.kind === 'benign' && !(row.group === 'benign:individual' && row.subgroup === 'plain'))
      counted.push(notPlain);
    for (const f of counted) {
      f.accounts++;
      if (c !== undefined) f.inClusters++;
      if (flagged) f.flagged++;
    }
    if (row.kind === 'campaign') {
      campaign++;
      if (flagged) campaignFlagged++;
    } else {
      benign++;
      if (flagged) benignFlagged++;
    }
  }
  const segments = [
    ...[...bySegment.values()].sort((a, b) => (a.group < b.group ? 1 : -1)),
    notPlain,
  ];
  for (const g of [...byGroup.values(), ...segments])
    g.rate = g.accounts > 0 ? g.flagged / g.accounts : 0;
  const groups = [...byGroup.values()].sort(
    (a, b) => (a.kind < b.kind ? 1 : a.kind > b.kind ? -1 : 0) || (a.group < b.group ? -1 : 1),
  );

  let unknown = 0;
  let flaggedClusters = 0;
  let flaggedMembers = 0;
  let majoritySum = 0;
  let worstPurity = 1;
  let impure = 0;
  let accountsInClusters = 0;
  let pivotFlagged = 0;
  let pivotWithReason = 0;
  let pivotClusters = 0;
  let clustersWithPivot = 0;
  let falsePivot = 0;
  for (const c of clusters) {
    accountsInClusters += c.members.length;
    const counts = new Map<string, number>();
    for (const id of c.members) {
      const row = truth.get(id);
      if (!row) unknown++;
      const g = row?.group ?? 'unknown';
      counts.set(g, (counts.get(g) ?? 0) + 1);
    }
    let major = '';
    let majorCount = 0;
    for (const [g, n] of counts)
      if (n > majorCount || (n === majorCount && g < major)) [major, majorCount] = [g, n];
    const hasPivot = c.reasons.some((r) => r.code === PIVOT_CODE);
    if (hasPivot && !pivotGroups.includes(major)) falsePivot++;
    if (!c.flagged) continue;
    flaggedClusters++;
    flaggedMembers += c.members.length;
    majoritySum += majorCount;
    const purity = c.members.length > 0 ? majorCount / c.members.length : 1;
    worstPurity = Math.min(worstPurity, purity);
    if (purity < 0.95) impure++;
    if (pivotGroups.includes(major)) {
      pivotClusters++;
      if (hasPivot) clustersWithPivot++;
    }
    let pivotMembers = 0;
    for (const g of pivotGroups) pivotMembers += counts.get(g) ?? 0;
    pivotFlagged += pivotMembers;
    if (hasPivot) pivotWithReason += pivotMembers;
  }
  const worstBenign =
    groups.filter((g) => g.kind === 'benign').sort((a, b) => b.rate - a.rate)[0] ?? null;
  return {
    accounts: truth.size,
    campaignAccounts: campaign,
    benignAccounts: benign,
    clusters: clusters.length,
    flaggedClusters,
    accountsInClusters,
    accountsFlagged: flaggedMembers,
    recall: campaign > 0 ? campaignFlagged / campaign : 0,
    benignFlagRate: benign > 0 ? benignFlagged / benign : 0,
    precision: flaggedMembers > 0 ? campaignFlagged / flaggedMembers : 0,
    purity: flaggedMembers > 0 ? majoritySum / flaggedMembers : 1,
    worstPurity,
    impureClusters: impure,
    groups,
    segments,
    worstBenignGroup: worstBenign,
    pivot: {
      groups: [...pivotGroups],
      flaggedAccounts: pivotFlagged,
      withPivotReason: pivotWithReason,
      share: pivotFlagged > 0 ? pivotWithReason / pivotFlagged : 0,
      flaggedClusters: pivotClusters,
      clustersWithPivot,
      falsePivotClusters: falsePivot,
    },
    unknownAccounts: unknown,
  };
}

export const TARGETS = {
  recall: 0.98,
  benignFlagRate: 0.001,
  benignGroupRate: 0.01,
  purity: 0.95,
  /** share of the pivoting campaign's flagged accounts whose cluster raises the pivot */
  pivotShare: 0.5,
};

const pct = (x: number, digits = 2): string => `${(x * 100).toFixed(digits)} %`;
const ok = (pass: boolean): string => (pass ? 'yes' : 'NO');

/** Markdown tables: the headline figures against the targets, then every group. */
export function formatEvaluation(e: Evaluation): string {
  const worst = e.worstBenignGroup;
  const notPlain = e.segments.find((g) => g.group === SEGMENT_NOT_PLAIN);
  const proxy = e.segments.find((g) => g.group === SEGMENT_PROXY_USERS);
  const rows: [string, string, string, string][] = [
    [
      'recall (campaign accounts flagged)',
      e.recall.toFixed(4),
      `≥ ${TARGETS.recall}`,
      ok(e.recall >= TARGETS.recall),
    ],
    [
      'benign flag rate',
      pct(e.benignFlagRate, 3),
      `≤ ${pct(TARGETS.benignFlagRate, 1)}`,
      ok(e.benignFlagRate <= TARGETS.benignFlagRate),
    ],
    [
      `worst benign group (${worst?.group ?? '-'})`,
      pct(worst?.rate ?? 0),
      `≤ ${pct(TARGETS.benignGroupRate, 0)}`,
      ok((worst?.rate ?? 0) <= TARGETS.benignGroupRate),
    ],
    [
      `benign flag rate, all but plain individuals (${notPlain?.accounts ?? 0} accounts)`,
      pct(notPlain?.rate ?? 0, 3),
      '',
      '',
    ],
    [
      `proxy users' flag rate (${SEGMENT_PROXY_USERS}, ${proxy?.accounts ?? 0} accounts)`,
      pct(proxy?.rate ?? 0),
      '',
      '',
    ],
    ['precision (flagged accounts that are campaign)', e.precision.toFixed(4), '', ''],
    [
      'purity of flagged clusters (members-weighted)',
      e.purity.toFixed(4),
      `≥ ${TARGETS.purity}`,
      ok(e.purity >= TARGETS.purity),
    ],
    [
      'worst flagged cluster purity / clusters < 0.95',
      `${e.worstPurity.toFixed(3)} / ${e.impureClusters}`,
      '',
      '',
    ],
    [
      `pivot raised (${e.pivot.groups.join(', ')}: flagged accounts in clusters with ${PIVOT_CODE})`,
      `${pct(e.pivot.share, 1)} (${e.pivot.clustersWithPivot}/${e.pivot.flaggedClusters} clusters)`,
      `raised`,
      ok(e.pivot.share >= TARGETS.pivotShare),
    ],
    [
      'clusters with the pivot reason, mostly not a pivoting campaign',
      String(e.pivot.falsePivotClusters),
      '',
      '',
    ],
    [
      'clusters / flagged / accounts in clusters / flagged accounts',
      `${e.clusters} / ${e.flaggedClusters} / ${e.accountsInClusters} / ${e.accountsFlagged}`,
      '',
      '',
    ],
  ];
  const out: string[] = [];
  out.push('| figure | value | target | met |');
  out.push('| --- | --- | --- | --- |');
  for (const r of rows) out.push(`| ${r.join(' | ')} |`);
  out.push('');
  out.push('| group | accounts | in a cluster | flagged | flag rate |');
  out.push('| --- | ---: | ---: | ---: | ---: |');
  for (const g of [...e.groups, ...e.segments])
    out.push(`| ${g.group} | ${g.accounts} | ${g.inClusters} | ${g.flagged} | ${pct(g.rate)} |`);
  return out.join('\n');
}
