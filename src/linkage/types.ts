/**
 * Plain data passed between the linkage stages:
 *   extract (read tx) → build (pure) → detect (pure) → score (pure) → publish (write tx).
 * Only extract and publish touch Neo4j; everything here is plain data (account facts
 * may be read-only views, see AccountFacts) so the pure stages can be unit-tested on
 * small fixtures.
 */
import type { IdentifierTable } from './identifier-table';

/** Kinds of shared value that can link two accounts. */
export type IdentifierKind =
  'payment' | 'device' | 'ip' | 'subnet' | 'email_domain' | 'prompt' | 'org';

export const IDENTIFIER_KINDS: readonly IdentifierKind[] = [
  'payment',
  'device',
  'ip',
  'subnet',
  'email_domain',
  'prompt',
  'org',
];

const KIND_INDEX = new Map<IdentifierKind, number>(IDENTIFIER_KINDS.map((k, i) => [k, i]));

/** A kind's position in IDENTIFIER_KINDS (throws on anything else). */
export function kindIndex(kind: IdentifierKind): number {
  const k = KIND_INDEX.get(kind);
  if (k === undefined) throw new RangeError(`unknown identifier kind '${String(kind)}'`);
  return k;
}

/** Per-hour activity as parallel arrays, keys are epoch hours (floor(ms / 3_600_000)), ascending. */
export interface HourSeries {
  keys: number[];
  counts: number[];
}

export interface ModelUse {
  name: string;
  count: number;
  firstUse: number; // epoch ms
  hours: HourSeries;
}

/**
 * What scoring needs to know about one account (times are epoch ms). Extract hands
 * out views over columns (account-table.ts) that decode `hours`, `models` and
 * `capabilities` on each read: read each once per use and do not write to it.
 */
export interface AccountFacts {
  id: string;
  signupAt: number | null;
  firstSeen: number;
  lastSeen: number;
  requests: number;
  hours: HourSeries;
  emailDomain: string | null;
  org: string | null;
  models: ModelUse[];
  capabilities: { name: string; count: number }[];
}

export interface Identifier {
  kind: IdentifierKind;
  /** payment fingerprint, IP address, "10.1.2.0/24", 16-hex SimHash, domain, org id, device id */
  value: string;
}

/**
 * Everything a run reads, produced by extract. Account–identifier links are
 * parallel typed arrays (one entry per link) because at 1M accounts there are
 * ~5M of them and objects would cost too much memory.
 */
export interface LinkageInput {
  accounts: AccountFacts[];
  /** the distinct (kind, value) pairs the links point at; packed (identifier-table.ts) */
  identifiers: IdentifierTable;
  linkAccount: Int32Array; // index into accounts
  linkIdentifier: Int32Array; // index into identifiers
  linkCount: Float64Array; // events behind the link (requests over that IP, …)
  /** Names of the models accounts used, sorted: the order score lists releases in (it takes each release from the accounts' own first uses, signals/context.ts). */
  models: string[];
  /** Values that must never link accounts (config + analysts' benign verdicts). */
  allowlist: Identifier[];
  /** The current run's published clusters, for stable ids. */
  previousClusters: { id: string; members: string[] }[];
  /** The current run's id (null before the first): fresh cluster ids are drawn from it. */
  previousRunId: string | null;
}

/**
 * A count of events as the pure stages read it: one that is not a finite number > 0
 * (missing, negative, NaN, ±Infinity) is 0 events, like a missing one, so one bad count
 * can neither poison a sum it enters (NaN, or Infinity / Infinity) nor take all of it.
 * Score reads account requests, hour counts and capability counts through this.
 */
export function eventCount(c: number | undefined): number {
  return c !== undefined && Number.isFinite(c) && c > 0 ? c : 0;
}

/**
 * Events behind link `l`, by `eventCount`. Build (traffic shares) and score (template
 * traffic) both read link counts through this. In build, an account whose counts of a
 * kind are all 0 keeps full weight on its values of that kind, as a caller that does
 * not know counts gets.
 */
export function linkEvents(input: LinkageInput, l: number): number {
  return eventCount(input.linkCount[l]);
}

/** Weighted, undirected account–account graph; multi-edges already collapsed. */
export interface LinkageGraph {
  accountCount: number;
  source: Int32Array;
  target: Int32Array;
  weight: Float64Array;
  /** Bookkeeping for run stats and reasons. */
  stats: Record<string, number>;
}

export interface Detection {
  /** community per account, -1 when the account is in no community (isolated / too small) */
  community: Int32Array;
  communityCount: number;
  modularity: number;
  stats: Record<string, number>;
}

export interface Reason {
  code: string;
  value: number;
}

export interface ScoredCluster {
  /** account indexes */
  members: number[];
  risk: number; // [0, 1]
  flagged: boolean;
  reasons: Reason[]; // what raised (positive) or lowered (negative codes prefixed benign_) risk
  signals: Record<string, number>; // every signal's raw value, for the signal breakdown
  sharedIdentifiers: { kind: IdentifierKind; value: string; members: number }[]; // strongest first, capped
}

export type ClusterChange = 'new' | 'stable' | 'grew' | 'shrank' | 'merged' | 'split' | 'dissolved';

export interface ClusterLineage {
  clusterId: string;
  change: ClusterChange;
  /** previous cluster ids this one came from (merged/split) */
  from: string[];
}

export interface PublishedCluster extends ScoredCluster {
  id: string;
  lineage: ClusterLineage;
}
