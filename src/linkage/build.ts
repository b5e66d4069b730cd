/**
 * build: accounts + what they share → one weighted account–account graph.
 *
 * Pure and near-linear in the number of account–identifier links:
 *   1. Distinct shared values; prompt fingerprints are first merged into
 *      near-duplicate templates (LSH, see lsh.ts). Allow-listed values drop out.
 *   2. Each value v of kind k shared by d accounts carries pair evidence
 *      w(v) = kindWeight[k] / ln(d + 5), scaled per pair by the traffic share
 *      both accounts put on it for IPs, subnets and prompts (weights.ts explains
 *      the whole rule).
 *   3. Values *propose* account pairs only when w(v) ≥ minProposeWeight:
 *        - d ≤ maxExpandDegree: all d(d-1)/2 pairs;
 *        - d > maxExpandDegree (a hub): members are linked as a star through
 *          one member picked by a hash of (seed, kind, value) among those with
 *          the most of their traffic on it — d − 1 pairs, i.e.
 *          the hub kept as a node with a member standing in for it. A star is what
 *          Louvain keeps whole (no part without its centre has an internal edge); a
 *          sparse random sample (cycles, k random partners) is not: modularity
 *          splits sparse random graphs, so a 600-account ring on one card
 *          came out as 7 communities that way in a unit test.
 *      Weaker values (webmail domains, busy subnets, carrier NATs) never
 *      propose: they could not bind a pair on their own anyway.
 *   3b. Co-use (co-use.ts): accounts using the same template heavily from the
 *      same subnets; a pair's co-use evidence counts (as prompt and subnet
 *      evidence) only when it came through coUseMinSubnets distinct subnets. A
 *      group too big for all its pairs gives the pairs within buckets of it, each
 *      with its whole co-use evidence (forPairsInBuckets).
 *   4. Hubs and weak values still *corroborate*: their evidence is added to
 *      every proposed pair whose two accounts both have them (a merge of two
 *      short per-account lists), so evidence per pair is exact for every pair
 *      that exists, while no hub is ever expanded. Evidence of common values
 *      (below minProposeWeight) is kept in a tally of its own.
 *   5. Per pair, evidence is summed per kind and combined super-additively
 *      across families; pairs whose specific evidence is weak-only and
 *      uncorroborated are dropped, whatever common values add.
 * Multi-edges collapse into one edge per pair (a hash table over typed arrays,
 * no object per pair); edges come out sorted by (source, target).
 *
 * The graph depends on the set of (account, kind, value, events) facts, the account
 * order and the seed, never on the order in which identifiers or an account's links
 * are listed (Neo4j returns an account's relationships in no promised order; a
 * re-import or a restored backup changes it): shared values are numbered by a hash of
 * their kind and normalised value (canonicalValues), so every loop over values, every
 * tie broken by value id and every sum of float evidence runs in the same order; a
 * hub's centre (among the members with the most of their traffic on it) comes from
 * that hash, so it does not move when another value appears or disappears (it moves
 * when its members' traffic shares do).
 */
import { canonicalDomain } from '../ingest/event-schema';
import { coActivity } from './co-activity';
import { coUseGroups, type CoUseGroups } from './co-use';
import { StringIndex } from './growable';
import { checkTemplates, promptTemplates, type PromptTemplates } from './lsh';
import { fmix32 } from './rng';
import { SubnetRanges } from './subnet-ranges';
import { lowerBound } from './signals/numbers';
import {
  type AccountFacts,
  IDENTIFIER_KINDS,
  type IdentifierKind,
  kindIndex,
  type LinkageGraph,
  type LinkageInput,
  linkEvents,
} from './types';
import { resolveBuildOptions, type BuildOptions } from './weights';

const K = IDENTIFIER_KINDS.length;
const PROMPT = kindIndex('prompt');
const SUBNET = kindIndex('subnet');

// What a shared value does (step 3); 0 = ignored (allow-listed, unshared or weightless).
const EXPANDED = 1;
const HUB = 2;
const CORROBORATE_ONLY = 3;

/**
 * Domains compare in canonical form (made so only when they are not already,
 * to spare a string per identifier). Prompt fingerprints are left as they are:
 * the LSH parses hex case-insensitively, so "ABC…" and "abc…" land in one
 * template at distance 0.
 */
const NOT_CANONICAL = /[^a-z0-9.-]|^\.|\.\.|\.$/;
function normalise(kind: IdentifierKind, value: string): string {
  // A graph written before ingest stripped the DNS root's dot may hold "gmail.com.":
  // one value with "gmail.com", as score and the allow-list read it.
  return kind === 'email_domain' && NOT_CANONICAL.test(value) ? canonicalDomain(value) : value;
}

/**
 * `templates` are the run's prompt templates (compute groups them once for build and
 * score); without them build groups the fingerprints itself at `maxHamming`.
 */
export function build(
  input: LinkageInput,
  options: Partial<BuildOptions> = {},
  templates?: PromptTemplates,
): LinkageGraph {
  const opts = resolveBuildOptions(options);
  if (templates) checkTemplates(templates, opts.maxHamming, input.allowlist);
  const n = input.accounts.length;
  const stats: Record<string, number> = { accounts: n, links: input.linkAccount.length };

  let clock = performance.now();
  // With each step's time, the process's RSS as it ends (`valuesMs` → `valuesRssMiB`):
  // where build's memory goes (12-07: its peak grew 0.45 GiB on proxy cells, unplaced).
  const lap = (name: string): void => {
    const now = performance.now();
    stats[name] = Math.round(now - clock);
    stats[name.replace(/Ms$/, 'RssMiB')] = Math.round(process.memoryUsage.rss() / 2 ** 20);
    clock = now;
  };
  const prompts = templates ?? promptTemplates(input.identifiers, opts.maxHamming, input.allowlist);
  const values = distinctValues(input, prompts, stats);
  lap('valuesMs');
  const { start, degree, members, share, events, kindTotal } = membersByValue(
    input,
    values,
    prompts,
    n,
    opts,
  );
  lap('membersMs');

  // Step 2–3: evidence and role of each value.
  const V = values.count;
  const weight = new Float64Array(V);
  const role = new Uint8Array(V);
  let expanded = 0;
  let hubs = 0;
  let corroborateOnly = 0;
  for (let v = 0; v < V; v++) {
    const d = degree[v] as number;
    if (d < 2 || values.allowed[v] === 1) continue;
    const w =
      (opts.kindWeight[IDENTIFIER_KINDS[values.kind[v] as number] as IdentifierKind] ?? 0) /
      Math.log(d + 5);
    if (w <= 0) continue;
    weight[v] = w;
    if (w < opts.minProposeWeight) {
      role[v] = CORROBORATE_ONLY;
      corroborateOnly++;
    } else if (d > opts.maxExpandDegree) {
      role[v] = HUB;
      hubs++;
    } else {
      role[v] = EXPANDED;
      expanded++;
    }
  }
  stats.valuesExpanded = expanded;
  stats.hubValuesCapped = hubs;
  stats.valuesCorroborateOnly = corroborateOnly;

  // Co-use groups (co-use.ts, step 3b below): a (template, subnet) pair carrying a real
  // share of both accounts' traffic, specific evidence of the prompt and the network
  // family at once. Grouped before the pair table so their pairs count in its size.
  const coUse = coUseGroups(
    n,
    { start, degree, members, events },
    (v) => values.kind[v] === PROMPT && values.allowed[v] === 0,
    (v) => values.kind[v] === SUBNET && values.allowed[v] === 0,
    (a) => kindTotal[a * K + PROMPT] as number,
    (a) => kindTotal[a * K + SUBNET] as number,
    opts,
  );
  lap('coUseGroupsMs'); // with step 2-3's roles; coUseMs below is adding the groups' pairs
  // The table holds at most one slot per proposal (co-activity's few pairs aside), so it
  // is sized to the smaller of that count and the number of links (it grows past the
  // estimate if need be). On the 1M bench 3.5 M candidate pairs against 5.7 M links.
  const buckets = coUseBuckets(coUse, opts.coUseMaxExpandDegree);
  const proposals = proposalCount(role, degree, coUse, buckets);
  const pairs = new PairTable(
    Math.max(1024, Math.min(input.linkAccount.length, proposals)),
    proposals,
  );
  const ev = () => pairs.evidence;

  // Step 3: proposals.
  let pairUpdates = 0;
  const seedMix = fmix32((opts.seed >>> 0) ^ 0x5bd1e995);
  for (let v = 0; v < V; v++) {
    const r = role[v];
    const from = start[v] as number;
    const d = degree[v] as number;
    if (r === EXPANDED) {
      const k = values.kind[v] as number;
      const w = weight[v] as number;
      for (let x = from; x < from + d; x++) {
        const a = members[x] as number;
        const sx = share[x] as number;
        for (let y = x + 1; y < from + d; y++) {
          const slot = pairs.slot(a, members[y] as number); // members sorted: a < b
          const e = ev();
          e[slot * K + k] = (e[slot * K + k] as number) + w * Math.min(sx, share[y] as number);
          pairUpdates++;
        }
      }
    } else if (r === HUB) {
      // Star through one member (seeded): the hub kept as a node, a member standing in for
      // it. The member is picked by a hash of (seed, kind, value), not a draw from a shared
      // stream, so one hub appearing or disappearing does not move the others' centres;
      // only among the members that put the most of their traffic on it, since step 4
      // credits each edge with the smaller of its two shares (a light centre made every
      // edge of the star as light as itself, and the hub linked nobody).
      const pick = fmix32(((values.hash[v] as number) ^ seedMix) >>> 0);
      let top = 0;
      let atTop = 0;
      for (let x = from; x < from + d; x++) {
        const sx = share[x] as number;
        if (sx > top) {
          top = sx;
          atTop = 0;
        }
        if (sx === top) atTop++;
      }
      let nth = Math.floor((pick / 4294967296) * atTop);
      let center = -1;
      for (let x = from; x < from + d && center < 0; x++)
        if (share[x] === top && nth-- === 0) center = members[x] as number;
      // no share to compare (NaN counts): any member
      if (center < 0) center = members[from + Math.floor((pick / 4294967296) * d)] as number;
      for (let x = from; x < from + d; x++) {
        const a = members[x] as number;
        if (a === center) continue;
        if (a < center) pairs.slot(a, center);
        else pairs.slot(center, a);
        pairUpdates++;
      }
    }
  }
  lap('proposeMs');

  // Step 3b's co-use pairs (below) are added after the proposals.
  // Kept apart per pair (sum, and a mask of the subnets it came from) until combine: it
  // counts only for pairs that share the template over several subnets. A subnet's bit
  // is its place among the lower account's co-use subnets (at most coUseMaxPerKind ≤ 16),
  // so a pair's distinct subnets get distinct bits and the count is exact. (A bit taken
  // from the subnet's hash missed a ring on exactly four /24s about one time in six.)
  const nets = coUse.accountSubnets;
  const bitOf = (a: number, subnet: number): number => {
    const from = nets.start[a] as number;
    const to = nets.start[a + 1] as number;
    for (let x = from; x < to; x++) if (nets.value[x] === subnet) return 1 << (x - from);
    throw new Error(`co-use: account ${a} is in a group of subnet ${subnet} it does not use`);
  };
  /** a < b; `bit` is bitOf(a, the group's subnet) */
  const addCoUse = (a: number, b: number, w: number, bit: number) => {
    const slot = pairs.slot(a, b);
    pairs.coUse[slot] = (pairs.coUse[slot] as number) + w;
    pairs.coUseNets[slot] = (pairs.coUseNets[slot] as number) | bit;
    pairUpdates++;
  };
  let bucketed = 0;
  for (let g = 0; g < coUse.count; g++) {
    const from = coUse.start[g] as number;
    const d = (coUse.start[g + 1] as number) - from;
    const w = opts.coUseWeight / Math.log((coUse.size[g] as number) + 5); // rarity: all its senders
    const subnet = coUse.subnet[g] as number;
    const group = coUse.members.subarray(from, from + d);
    if (buckets[g] === 1) {
      // members ascending: group[x] is the lower of each of its pairs
      for (let x = 0; x < d; x++) {
        const a = group[x] as number;
        const bit = bitOf(a, subnet);
        for (let y = x + 1; y < d; y++) addCoUse(a, group[y] as number, w, bit);
      }
    } else {
      // Too big for all its pairs: the pairs within each of B buckets, twice over (a
      // second bucketing, so the buckets' pairs join up into one cell). An account's bucket
      // depends on the template and B, not the subnet, so a pair in one bucket of a group
      // is in one bucket of every group of that template with as many buckets or fewer
      // (B is a power of two) and gets the evidence of each. A star (as for hubs) put each
      // subnet's evidence on the edges to another centre, so no pair reached
      // coUseMinSubnets: a cell of 1,000 over 30 proxy /24s lost all but 156 accounts.
      const th = values.hash[coUse.template[g] as number] as number;
      forPairsInBuckets(group, buckets[g] as number, (th ^ seedMix) >>> 0, (a, b) =>
        addCoUse(a, b, w, bitOf(a, subnet)),
      );
      bucketed++;
    }
  }
  stats.coUseValues = coUse.count;
  stats.coUseValuesBucketed = bucketed;
  lap('coUseMs');

  // Step 3c, co-activity (co-activity.ts): pairs on enough of the same subnets whose
  // active hours mostly coincide, found by MinHash banding and checked exactly; every
  // pair other evidence proposed is checked too, so it gets the evidence the rule gives.
  const act = coActivity(
    n,
    coUse.accountSubnets,
    (a) => (input.accounts[a] as AccountFacts).hours,
    (a) => (input.accounts[a] as AccountFacts).signupAt,
    opts,
    opts.coUseMaxExpandDegree,
  );
  if (act.accounts > 0) {
    const proposed = pairs.size;
    for (let x = 0; x < act.a.length; x++) {
      // the slot first: finding it may grow the table, and with it the activity array
      const slot = pairs.slot(act.a[x] as number, act.b[x] as number);
      pairs.activity()[slot] = 1;
      pairUpdates++;
    }
    // the pairs proposed before, but not found (already checked) by the banding
    for (let s = 0; s < proposed; s++) {
      if (pairs.hasActivity && pairs.activity()[s] === 1) continue;
      if (act.check(pairs.a[s] as number, pairs.b[s] as number) > 0) pairs.activity()[s] = 1;
    }
  }
  stats.coActivityAccounts = act.accounts;
  stats.coActivityCandidates = act.candidates;
  stats.coActivityFound = act.a.length;
  stats.pairUpdates = pairUpdates;
  stats.candidatePairs = pairs.size;
  lap('coActivityMs');
  // A pair that other evidence or co-activity proposed, in no shared bucket, gets those
  // groups' co-use too, so every pair that exists has all of its co-use evidence. After
  // co-activity, whose pairs would otherwise miss it (review, 12-06).
  if (bucketed > 0) {
    const saltOf = (g: number) =>
      ((values.hash[coUse.template[g] as number] as number) ^ seedMix) >>> 0;
    mergeBucketedCoUse(pairs, coUse, buckets, saltOf, n, (a, b, d, subnet) =>
      addCoUse(a, b, opts.coUseWeight / Math.log(d + 5), bitOf(a, subnet)),
    );
  }
  lap('coUseMergeMs');

  // Step 4: hubs and weak values corroborate every proposed pair that shares them. Done
  // slot by slot inside step 5, into the slot's own row of `e` (hubs) and a row of K for
  // common values that step 5 reads at once: a common column for every slot touched
  // 28 bytes a candidate pair (12-07, the 1M bench on proxy cells: +163 MiB here).
  const indirect = indirectValuesByAccount(role, start, degree, members, share, n);
  const e = pairs.evidence;
  const list = indirect.value;
  // The slot being credited: its row of `e` and its common row (no closure a pair).
  let row = 0;
  let commonRow: Float32Array = new Float32Array(K);
  const credit = (va: number, i: number, j: number): void => {
    const k = values.kind[va] as number;
    const tf = Math.min(indirect.share[i] as number, indirect.share[j] as number);
    const w = (weight[va] as number) * tf;
    // Hubs are specific (rare enough to propose, only too big to expand);
    // corroborate-only values are common and go to their own tally.
    if (role[va] === CORROBORATE_ONLY) commonRow[k] = (commonRow[k] as number) + w;
    else e[row + k] = (e[row + k] as number) + w;
  };
  const corroborate = (s: number, common: Float32Array): void => {
    common.fill(0);
    row = s * K;
    commonRow = common;
    const a = pairs.a[s] as number;
    const b = pairs.b[s] as number;
    let i = indirect.start[a] as number;
    const iEnd = indirect.start[a + 1] as number;
    let j = indirect.start[b] as number;
    const jEnd = indirect.start[b + 1] as number;
    // Lists far apart in length (one account on thousands of proxy IPs): each value of
    // the short one is searched in the long one, or every pair of that account would
    // walk its whole list. Matches come in value order either way, so sums are the same.
    const shortFirst = (iEnd - i) * GALLOP_RATIO < jEnd - j;
    if (shortFirst || (jEnd - j) * GALLOP_RATIO < iEnd - i) {
      // credit takes the two positions either way round (the share is their minimum)
      const [xStart, xEnd, yStart, yEnd] = shortFirst ? [i, iEnd, j, jEnd] : [j, jEnd, i, iEnd];
      for (let x = xStart, y = yStart; x < xEnd && y < yEnd; x++) {
        y = lowerBound(list, y, yEnd, list[x] as number);
        if (y < yEnd && list[y] === list[x]) credit(list[x] as number, x, y++);
      }
      return;
    }
    while (i < iEnd && j < jEnd) {
      const va = list[i] as number;
      const vb = list[j] as number;
      if (va < vb) i++;
      else if (va > vb) j++;
      else credit(va, i++, j++);
    }
  };

  lap('corroborateMs'); // its lists only: the pairs' part is timed in combineMs
  const edges = combine(pairs, n, opts, stats, corroborate);
  lap('combineMs');
  return { accountCount: n, ...edges, stats };
}

/** Step 4 searches a list instead of walking it when it is this many times longer. */
const GALLOP_RATIO = 16;

/** Pairs step 3 proposes, counted with repeats: about an upper bound on the distinct pairs. */
function proposalCount(
  role: Uint8Array,
  degree: Int32Array,
  coUse: CoUseGroups,
  buckets: Int32Array,
): number {
  let count = 0;
  for (let v = 0; v < role.length; v++) {
    const d = degree[v] as number;
    if (role[v] === EXPANDED) count += (d * (d - 1)) / 2;
    else if (role[v] === HUB) count += d - 1;
  }
  for (let g = 0; g < coUse.count; g++) {
    const d = (coUse.start[g + 1] as number) - (coUse.start[g] as number);
    const b = buckets[g] as number;
    // two bucketings of b buckets of ~d/b: d²/b pairs (only the expected count)
    count += b === 1 ? (d * (d - 1)) / 2 : Math.ceil((d * d) / b);
  }
  return count;
}

/**
 * Per co-use group, how many buckets its members are spread over: 1 (expanded whole) up
 * to `maxWhole` members, else the power of two that gives buckets of a quarter to a half
 * of `maxWhole`. Each group takes its own count, so a template's huge group (a SaaS
 * egress) does not thin a ring's smaller groups of it into tiny buckets; powers of two
 * nest (bucketOf's `% b`), so two groups of one template still propose the same pairs
 * where they overlap rather than two sets of them.
 */
function coUseBuckets(coUse: CoUseGroups, maxWhole: number): Int32Array {
  const out = new Int32Array(coUse.count);
  for (let g = 0; g < coUse.count; g++) {
    // by all the group's senders, members or not: a pair's buckets as if all were members
    const d = coUse.size[g] as number;
    let b = 1;
    if (d > maxWhole) while (b * maxWhole < 2 * d) b *= 2;
    out[g] = b;
  }
  return out;
}

/**
 * Each pair in the table, for each bucketed co-use group both accounts are in without
 * sharing a bucket of it: `add(a, b, the group's size, its subnet)`. A merge of the two
 * accounts' sorted lists of such groups, as step 4 does for hubs.
 */
function mergeBucketedCoUse(
  pairs: PairTable,
  coUse: CoUseGroups,
  buckets: Int32Array,
  saltOf: (group: number) => number,
  n: number,
  add: (a: number, b: number, size: number, subnet: number) => void,
): void {
  const lists = bucketedGroupsByAccount(coUse, buckets, n);
  for (let s = 0; s < pairs.size; s++) {
    const a = pairs.a[s] as number;
    const b = pairs.b[s] as number;
    let i = lists.start[a] as number;
    const iEnd = lists.start[a + 1] as number;
    let j = lists.start[b] as number;
    const jEnd = lists.start[b + 1] as number;
    while (i < iEnd && j < jEnd) {
      const ga = lists.group[i] as number;
      const gb = lists.group[j] as number;
      if (ga < gb) i++;
      else if (ga > gb) j++;
      else {
        if (!shareBucket(a, b, buckets[ga] as number, saltOf(ga)))
          add(a, b, coUse.size[ga] as number, coUse.subnet[ga] as number);
        i++;
        j++;
      }
    }
  }
}

/** Per account (CSR), the co-use groups it is in that were expanded within buckets, ascending. */
function bucketedGroupsByAccount(coUse: CoUseGroups, buckets: Int32Array, n: number) {
  const start = new Int32Array(n + 1);
  for (let g = 0; g < coUse.count; g++) {
    if (buckets[g] === 1) continue;
    for (let x = coUse.start[g] as number; x < (coUse.start[g + 1] as number); x++) {
      const a = (coUse.members[x] as number) + 1;
      start[a] = (start[a] as number) + 1;
    }
  }
  for (let a = 0; a < n; a++) start[a + 1] = (start[a + 1] as number) + (start[a] as number);
  const fill = start.slice(0, n);
  const group = new Int32Array(start[n] as number);
  for (let g = 0; g < coUse.count; g++) {
    if (buckets[g] === 1) continue;
    for (let x = coUse.start[g] as number; x < (coUse.start[g + 1] as number); x++) {
      const a = coUse.members[x] as number;
      group[fill[a] as number] = g; // g ascending ⇒ each account's list is sorted
      fill[a] = (fill[a] as number) + 1;
    }
  }
  return { start, group };
}

/** An account's bucket in round 0 or 1 of forPairsInBuckets. */
function bucketOf(account: number, b: number, salt: number, round: number): number {
  const mix = round === 0 ? salt : (salt ^ 0x9e3779b9) >>> 0;
  return fmix32((account ^ mix) >>> 0) % b;
}

/** Whether forPairsInBuckets(…, b, salt, …) gives the pair (a, c). */
function shareBucket(a: number, c: number, b: number, salt: number): boolean {
  return (
    bucketOf(a, b, salt, 0) === bucketOf(c, b, salt, 0) ||
    bucketOf(a, b, salt, 1) === bucketOf(c, b, salt, 1)
  );
}

/**
 * Calls `pair(a, b)` (a < b) once for each pair of `group` (ascending) whose accounts
 * share a bucket in either of two bucketings of `b` buckets; an account's buckets come
 * from a hash of it and `salt`, so they are the same in every group given that salt.
 * About d²/b pairs.
 */
export function forPairsInBuckets(
  group: Int32Array,
  b: number,
  salt: number,
  pair: (a: number, b: number) => void,
): void {
  const d = group.length;
  const first = new Int32Array(d);
  const order = new Int32Array(d);
  const begin = new Int32Array(b + 1);
  for (let round = 0; round < 2; round++) {
    const bucket = new Int32Array(d);
    begin.fill(0);
    for (let x = 0; x < d; x++) {
      const k = bucketOf(group[x] as number, b, salt, round);
      bucket[x] = k;
      begin[k + 1] = (begin[k + 1] as number) + 1;
      if (round === 0) first[x] = k;
    }
    for (let k = 0; k < b; k++) begin[k + 1] = (begin[k + 1] as number) + (begin[k] as number);
    const fill = begin.slice(0, b);
    for (let x = 0; x < d; x++) {
      const k = bucket[x] as number;
      order[fill[k] as number] = x;
      fill[k] = (fill[k] as number) + 1;
    }
    for (let k = 0; k < b; k++) {
      const to = begin[k + 1] as number;
      for (let i = begin[k] as number; i < to; i++) {
        const x = order[i] as number;
        for (let j = i + 1; j < to; j++) {
          const y = order[j] as number;
          // a pair the first bucketing already gave is not counted again
          if (round === 1 && first[x] === first[y]) continue;
          pair(group[x] as number, group[y] as number); // x < y: filled in ascending order
        }
      }
    }
  }
}

interface Values {
  count: number;
  /** value id per input identifier (-1: none) */
  ofIdentifier: Int32Array;
  kind: Uint8Array;
  allowed: Uint8Array;
  /** per value linked more than once, a 32-bit hash of its kind and normalised value (0 otherwise) */
  hash: Uint32Array;
}

/**
 * Per identifier, 1 when the allow-list covers it: its normalised value is listed, an
 * address or /24 (/48) lies in a listed subnet range, or, for a prompt fingerprint, its
 * near-duplicate template is allowed (`templates.allowed`:
 * a fingerprint of the template is within maxHamming of a listed one, which need not
 * occur in the run; an allow-listed framework prompt takes its variants with it). Build
 * and score both use this, so a value build ignores is never counted as evidence by
 * score either.
 */
export function allowedIdentifiers(input: LinkageInput, templates: PromptTemplates): Uint8Array {
  // Once a run: build and then score ask with the same input and templates (up to ~0.5 s
  // at 1M accounts with a subnet listed). Neither changes the flags.
  const known = allowedMemo.get(templates);
  if (known?.input === input) return known.flags;
  const flags = allowedFlags(input, templates);
  allowedMemo.set(templates, { input, flags });
  return flags;
}

const allowedMemo = new WeakMap<PromptTemplates, { input: LinkageInput; flags: Uint8Array }>();

function allowedFlags(input: LinkageInput, templates: PromptTemplates): Uint8Array {
  const ids = input.identifiers;
  const flags = new Uint8Array(ids.length);
  if (input.allowlist.length === 0) return flags;
  const allowByKind = IDENTIFIER_KINDS.map(() => new Set<string>());
  for (const id of input.allowlist)
    allowByKind[kindIndex(id.kind)]?.add(normalise(id.kind, id.value));
  // A listed subnet or wider range (a campus, a gateway's block) covers the /24s (/48s)
  // in it and their addresses too, or each NAT IP in it would still link its users.
  const ranges = new SubnetRanges(allowByKind[SUBNET] as Set<string>);
  for (let i = 0; i < ids.length; i++) {
    const t = templates.ofIdentifier[i] as number;
    if (t >= 0) {
      flags[i] = templates.allowed[t] === 1 ? 1 : 0;
      continue;
    }
    const kind = ids.kind(i);
    const set = allowByKind[kindIndex(kind)] as Set<string>;
    const ranged = kind === 'ip' || kind === 'subnet';
    if (set.size === 0 && (!ranged || ranges.size === 0)) continue;
    const value = ids.value(i);
    if (set.has(normalise(kind, value))) flags[i] = 1;
    else if (kind === 'ip' && ranges.coversIp(value)) flags[i] = 1;
    else if (kind === 'subnet' && ranges.coversSubnet(value)) flags[i] = 1;
  }
  return flags;
}

/** Step 1: distinct values, prompts merged into near-duplicate templates, allow-list applied. */
function distinctValues(
  input: LinkageInput,
  templates: PromptTemplates,
  stats: Record<string, number>,
): Values {
  const allowedId = allowedIdentifiers(input, templates);
  const ids = input.identifiers;
  const ofIdentifier = new Int32Array(ids.length).fill(-1);
  // One index per kind, keyed by the value string itself: no key string built per
  // identifier (a StringIndex: IPs, like prompts, only accumulate past one Map's 2^24).
  const byKind = IDENTIFIER_KINDS.map(() => new StringIndex());
  const kind: number[] = [];
  const allowed: number[] = [];

  // Prompts: one value per near-duplicate template (value ids 0..templates.count-1).
  // No string map: repeated fingerprints are at distance 0, so they share a template.
  for (let t = 0; t < templates.count; t++) {
    kind.push(PROMPT);
    allowed.push(0);
  }
  let promptFingerprints = 0;
  for (let i = 0; i < ids.length; i++) {
    const t = templates.ofIdentifier[i] as number;
    if (t < 0) continue;
    promptFingerprints++;
    if (allowedId[i]) allowed[t] = 1;
  }
  stats.lshMs = templates.ms;
  stats.promptFingerprints = promptFingerprints;
  stats.promptTemplates = templates.count;
  stats.promptMalformed = templates.malformed;
  stats.lshCandidates = templates.stats.candidates;
  stats.nearDuplicatePairs = templates.stats.pairs;
  stats.lshRebucketed = templates.stats.rebucketed;
  stats.lshAllowCandidates = templates.allowCandidates;

  for (let i = 0; i < ids.length; i++) {
    const t = templates.ofIdentifier[i] as number;
    if (t >= 0) {
      ofIdentifier[i] = t;
      continue;
    }
    const idKind = ids.kind(i);
    const k = kindIndex(idKind);
    const value = normalise(idKind, ids.value(i));
    const byValue = byKind[k] as StringIndex;
    let v = byValue.get(value);
    if (v === undefined) {
      v = kind.length;
      byValue.set(value, v);
      kind.push(k);
      allowed.push(allowedId[i] as number);
    }
    ofIdentifier[i] = v;
  }
  stats.values = kind.length;
  stats.valuesAllowlisted = allowed.reduce((s, x) => s + x, 0);
  return {
    count: kind.length,
    ofIdentifier,
    kind: Uint8Array.from(kind),
    allowed: Uint8Array.from(allowed),
    hash: new Uint32Array(kind.length),
  };
}

/** 32-bit hash of a value of kind `k`: FNV-1a over its UTF-16 code units, then fmix32. */
function valueHash(k: number, value: string): number {
  let h = (0x811c9dc5 ^ Math.imul(k + 1, 0x9e3779b1)) >>> 0;
  for (let i = 0; i < value.length; i++) h = Math.imul(h ^ value.charCodeAt(i), 0x01000193);
  return fmix32(h >>> 0);
}

/**
 * Renumbers the values (in place: `values` and the per-value link counts `links`) so
 * that the order of their ids does not depend on the order of the input's identifiers
 * or links. Only values linked more than once can be shared (a value of one link has
 * degree ≤ 1 and takes no part in anything); they trade ids among themselves so that
 * they come in order of (hash, kind, normalised value), the others keep theirs. So
 * every loop over values, every tie broken by value id and every sum over values runs
 * in the same order for the same facts. A prompt template stands for its lowest
 * fingerprint string, a function of its set of fingerprints alone. Cost: a pass over
 * identifiers, a string hash and a radix sort of the shared values; the link counts
 * come from membersByValue's first pass.
 */
function canonicalValues(
  input: LinkageInput,
  values: Values,
  templates: PromptTemplates,
  links: Int32Array,
): void {
  const { count: V, ofIdentifier, kind, allowed, hash } = values;
  const ids = input.identifiers;
  // An identifier standing for each shared value: any of a value's (all normalise to
  // its string); a template's lowest fingerprint string.
  const rep = new Int32Array(V).fill(-1);
  for (let i = 0; i < ids.length; i++) {
    const v = ofIdentifier[i] as number;
    if (v < 0 || (links[v] as number) < 2) continue;
    const r = rep[v] as number;
    if (r < 0) rep[v] = i;
    else if ((templates.ofIdentifier[i] as number) >= 0 && ids.value(i) < ids.value(r)) rep[v] = i;
  }
  const text = (v: number): string => {
    const r = rep[v] as number;
    return normalise(ids.kind(r), ids.value(r));
  };
  let shared = 0;
  for (let v = 0; v < V; v++) if ((links[v] as number) >= 2) shared++;
  // The shared values' ids (ascending), and each one's hash, by position p in that list.
  const slots = new Int32Array(shared);
  const h = new Uint32Array(shared);
  for (let v = 0, p = 0; v < V; v++) {
    if ((links[v] as number) < 2) continue;
    slots[p] = v;
    h[p++] = valueHash(kind[v] as number, text(v));
  }
  // Positions by hash: two stable counting passes of 16 bits.
  let order = new Int32Array(shared);
  for (let p = 0; p < shared; p++) order[p] = p;
  let next = new Int32Array(shared);
  const count = new Int32Array(65537);
  for (const shift of [0, 16]) {
    count.fill(0);
    for (let i = 0; i < shared; i++) {
      const d = (((h[order[i] as number] as number) >>> shift) & 0xffff) + 1;
      count[d] = (count[d] as number) + 1;
    }
    for (let d = 0; d < 65536; d++) count[d + 1] = (count[d + 1] as number) + (count[d] as number);
    for (let i = 0; i < shared; i++) {
      const p = order[i] as number;
      const d = ((h[p] as number) >>> shift) & 0xffff;
      next[count[d] as number] = p;
      count[d] = (count[d] as number) + 1;
    }
    [order, next] = [next, order];
  }
  // Equal hashes (rare): by kind, then the value's string. (Two values of one kind and
  // one string are only two malformed fingerprints listed twice as identifiers: they
  // keep their input order.)
  for (let i = 0; i < shared;) {
    let j = i + 1;
    while (j < shared && h[order[j] as number] === h[order[i] as number]) j++;
    if (j - i > 1) {
      const run = Array.from(order.subarray(i, j));
      run.sort((p, q) => {
        const a = slots[p] as number;
        const b = slots[q] as number;
        const ta = text(a);
        const tb = text(b);
        return (kind[a] as number) - (kind[b] as number) || (ta < tb ? -1 : ta > tb ? 1 : 0);
      });
      order.set(run, i);
    }
    i = j;
  }
  // The i-th value in that order takes the i-th shared id.
  const wasKind = new Uint8Array(shared);
  const wasAllowed = new Uint8Array(shared);
  const wasLinks = new Int32Array(shared);
  for (let p = 0; p < shared; p++) {
    const v = slots[p] as number;
    wasKind[p] = kind[v] as number;
    wasAllowed[p] = allowed[v] as number;
    wasLinks[p] = links[v] as number;
  }
  const newId = new Int32Array(V);
  for (let i = 0; i < shared; i++) {
    const p = order[i] as number;
    const w = slots[i] as number;
    newId[slots[p] as number] = w;
    kind[w] = wasKind[p] as number;
    allowed[w] = wasAllowed[p] as number;
    links[w] = wasLinks[p] as number;
    hash[w] = h[p] as number;
  }
  for (let i = 0; i < ofIdentifier.length; i++) {
    const v = ofIdentifier[i] as number;
    if (v >= 0 && (links[v] as number) >= 2) ofIdentifier[i] = newId[v] as number;
  }
}

/**
 * Distinct accounts per value (CSR, each value's members sorted ascending), and per
 * (value, member) the **traffic share** factor: for traffic kinds (IPs, subnets,
 * prompts) the member's events on the value / all its events of that kind, divided
 * by `fullShare` and capped at 1; 1 for every other kind.
 */
function membersByValue(
  input: LinkageInput,
  values: Values,
  templates: PromptTemplates,
  n: number,
  opts: BuildOptions,
) {
  const { ofIdentifier, count: V } = values;
  const L = input.linkAccount.length;
  const traffic = IDENTIFIER_KINDS.map((k) => opts.trafficKinds.includes(k));
  // Events per account and kind (the denominator of a traffic share).
  const kindTotal = new Float64Array(n * K);
  const start = new Int32Array(V + 1);
  for (let l = 0; l < L; l++) {
    const v = ofIdentifier[input.linkIdentifier[l] as number] as number;
    const a = input.linkAccount[l] as number;
    if (v < 0 || a < 0 || a >= n) continue;
    start[v + 1] = (start[v + 1] as number) + 1;
    const at = a * K + (values.kind[v] as number);
    kindTotal[at] = (kindTotal[at] as number) + linkEvents(input, l);
  }
  canonicalValues(input, values, templates, start.subarray(1));
  for (let v = 0; v < V; v++) start[v + 1] = (start[v + 1] as number) + (start[v] as number);
  const fill = start.slice(0, V);
  const members = new Int32Array(start[V] as number);
  const events = new Float64Array(start[V] as number);
  for (let l = 0; l < L; l++) {
    const v = ofIdentifier[input.linkIdentifier[l] as number] as number;
    const a = input.linkAccount[l] as number;
    if (v < 0 || a < 0 || a >= n) continue;
    const at = fill[v] as number;
    fill[v] = at + 1;
    members[at] = a;
    events[at] = linkEvents(input, l);
  }
  // Sort and de-duplicate each value's members in place (repeated links, several
  // fingerprints of one template), summing each member's events on the value.
  const degree = new Int32Array(V);
  const share = new Float32Array(start[V] as number);
  const memberEvents = new Float32Array(start[V] as number);
  const perAccount = new Float64Array(n); // scratch, reset after each value
  for (let v = 0; v < V; v++) {
    const from = start[v] as number;
    const to = fill[v] as number;
    for (let x = from; x < to; x++) {
      const a = members[x] as number;
      perAccount[a] = (perAccount[a] as number) + (events[x] as number);
    }
    const seg = members.subarray(from, to);
    if (seg.length > 1) seg.sort();
    let d = 0;
    for (let x = 0; x < seg.length; x++) {
      if (d === 0 || seg[x] !== seg[d - 1]) seg[d++] = seg[x] as number;
    }
    degree[v] = d;
    const k = values.kind[v] as number;
    for (let x = from; x < from + d; x++) {
      const a = members[x] as number;
      memberEvents[x] = perAccount[a] as number;
      let f = 1;
      if (traffic[k]) {
        const total = kindTotal[a * K + k] as number;
        // No counts at all (a caller that does not know them): full weight. Counts summed
        // past float range (a direct caller's) make Infinity / Infinity: full weight too,
        // never NaN evidence (review, 12-05).
        f = total > 0 ? Math.min(1, (perAccount[a] as number) / total / opts.fullShare) : 1;
        if (Number.isNaN(f)) f = 1;
      }
      share[x] = f;
      perAccount[a] = 0;
    }
  }
  return { start, degree, members, share, events: memberEvents, kindTotal };
}

/** Per account, the (ascending) hub and corroborate-only values it has. */
function indirectValuesByAccount(
  role: Uint8Array,
  start: Int32Array,
  degree: Int32Array,
  members: Int32Array,
  memberShare: Float32Array,
  n: number,
) {
  const accStart = new Int32Array(n + 1);
  const V = role.length;
  for (let v = 0; v < V; v++) {
    if (role[v] !== HUB && role[v] !== CORROBORATE_ONLY) continue;
    const from = start[v] as number;
    for (let x = from; x < from + (degree[v] as number); x++) {
      const a = (members[x] as number) + 1;
      accStart[a] = (accStart[a] as number) + 1;
    }
  }
  for (let a = 0; a < n; a++)
    accStart[a + 1] = (accStart[a + 1] as number) + (accStart[a] as number);
  const fill = accStart.slice(0, n);
  const value = new Int32Array(accStart[n] as number);
  const share = new Float32Array(accStart[n] as number);
  for (let v = 0; v < V; v++) {
    if (role[v] !== HUB && role[v] !== CORROBORATE_ONLY) continue;
    const from = start[v] as number;
    for (let x = from; x < from + (degree[v] as number); x++) {
      const a = members[x] as number;
      const at = fill[a] as number;
      fill[a] = at + 1;
      value[at] = v; // v ascending ⇒ each account's list is sorted
      share[at] = memberShare[x] as number;
    }
  }
  return { start: accStart, value, share };
}

/** Step 5: per-kind caps, corroboration bonus, camouflage drop; edges sorted by (source, target). */
function combine(
  pairs: PairTable,
  n: number,
  opts: BuildOptions,
  stats: Record<string, number>,
  corroborate: (slot: number, common: Float32Array) => void,
) {
  const cap = IDENTIFIER_KINDS.map((k) => opts.kindCap * (opts.kindWeight[k] ?? 0));
  const weak = IDENTIFIER_KINDS.map((k) => opts.weakKinds.includes(k));
  const familyNames = [...new Set(IDENTIFIER_KINDS.map((k) => opts.family[k] ?? k))];
  const familyOf = IDENTIFIER_KINDS.map((k) => familyNames.indexOf(opts.family[k] ?? k));
  const familySum = new Float64Array(familyNames.length);

  const e = pairs.evidence;
  const c = new Float32Array(K); // the slot's common evidence, per kind (step 4)
  const kept = new Float64Array(pairs.size); // key a*n+b per kept pair (exact below 2^53)
  const weightOfSlot = new Float64Array(pairs.size);
  const specificFamily = new Float64Array(familyNames.length);
  let edges = 0;
  let droppedWeak = 0;
  let corroborated = 0;
  let coUsePairs = 0;
  let coActivityPairs = 0;
  const activityColumn = pairs.hasActivity ? pairs.activity() : null;
  const activityCap = opts.kindCap * opts.coActivityWeight;
  for (let s = 0; s < pairs.size; s++) {
    corroborate(s, c);
    let strong = 0;
    let weakSum = 0;
    let strongSpecific = 0;
    let weakSpecific = 0;
    familySum.fill(0);
    specificFamily.fill(0);
    // Co-use counts, as prompt and as subnet evidence, only over enough distinct subnets.
    const coUse =
      popcount(pairs.coUseNets[s] as number) >= opts.coUseMinSubnets
        ? (pairs.coUse[s] as number)
        : 0;
    if (coUse > 0) coUsePairs++;
    // Co-activity (already checked: step 3c) counts as subnet evidence and as activity;
    // its weight is added here, as a double (in the Float32 column 0.35 read 0.34999…
    // and missed a corroborationMin of 0.35).
    const activity = activityColumn?.[s] === 1 ? opts.coActivityWeight : 0;
    if (activity > 0) coActivityPairs++;
    for (let k = 0; k < K; k++) {
      const own =
        (e[s * K + k] as number) +
        (k === PROMPT || k === SUBNET ? coUse : 0) +
        (k === SUBNET ? activity : 0);
      const specific = Math.min(own, cap[k] as number);
      const x = Math.min(own + (c[k] as number), cap[k] as number);
      if (x <= 0) continue;
      const f = familyOf[k] as number;
      if (weak[k]) {
        weakSum += x;
        weakSpecific += specific;
      } else {
        strong += x;
        strongSpecific += specific;
      }
      familySum[f] = (familySum[f] as number) + x;
      specificFamily[f] = (specificFamily[f] as number) + specific;
    }
    let families = 0;
    let specificFamilies = 0;
    // A family with no evidence never corroborates, whatever corroborationMin says (at 0,
    // every kind the pair does not share would otherwise count).
    for (let f = 0; f < familySum.length; f++) {
      const sum = familySum[f] as number;
      const specificSum = specificFamily[f] as number;
      if (sum > 0 && sum >= opts.corroborationMin) families++;
      if (specificSum > 0 && specificSum >= opts.corroborationMin) specificFamilies++;
    }
    // Activity is a family of its own with no common part; weak, as one family alone.
    if (activity > 0) {
      const x = Math.min(activity, activityCap);
      weakSum += x;
      weakSpecific += x;
      if (x >= opts.corroborationMin) {
        families++;
        specificFamilies++;
      }
    }
    // Whether the pair exists is decided by specific evidence only; common values
    // (too widely shared to propose a pair) add weight but never create a link, also at a
    // weakOnlyMin of 0 (review, 12-07: it kept pairs with no specific evidence at all).
    if (
      strongSpecific <= 0 &&
      specificFamilies < 2 &&
      (weakSpecific <= 0 || weakSpecific < opts.weakOnlyMin)
    ) {
      droppedWeak++;
      continue;
    }
    if (strong + weakSum <= 0) continue;
    if (families >= 2) corroborated++;
    weightOfSlot[s] =
      (strong + weakSum) * (1 + opts.corroborationBonus * Math.max(0, families - 1));
    kept[edges++] = (pairs.a[s] as number) * n + (pairs.b[s] as number);
  }
  const keys = kept.subarray(0, edges).sort();
  const source = new Int32Array(edges);
  const target = new Int32Array(edges);
  const weight = new Float64Array(edges);
  for (let i = 0; i < edges; i++) {
    const key = keys[i] as number;
    const a = Math.floor(key / n);
    const b = key - a * n;
    source[i] = a;
    target[i] = b;
    weight[i] = weightOfSlot[pairs.find(a, b)] as number;
  }
  stats.edges = edges;
  stats.coUsePairs = coUsePairs;
  stats.coActivityPairs = coActivityPairs;
  stats.droppedWeakPairs = droppedWeak;
  stats.corroboratedEdges = corroborated;
  return { source, target, weight };
}

function popcount(x: number): number {
  let v = x - ((x >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/**
 * Open-addressing hash table from an account pair (a < b) to a dense slot, with
 * per-slot evidence per kind in one Float32Array — no object per pair. Each
 * table entry keeps (a, b, slot + 1) side by side, so a probe touches one cache
 * line instead of three arrays.
 */
class PairTable {
  a: Int32Array;
  b: Int32Array;
  evidence: Float32Array;
  /** co-use evidence (co-use.ts), and a mask of the subnets it came through (step 3b) */
  coUse: Float32Array;
  coUseNets: Uint32Array;
  /** 1 where the pair is co-active (step 3c); made on first use, as most runs have none */
  private act: Uint8Array | null = null;
  size = 0;
  private table: Int32Array; // entries of [a, b, slot + 1, unused]; slot + 1 = 0: empty
  private mask: number;

  /** `limit`: the proposals, most slots the run can need (co-use's part is an estimate). */
  constructor(
    expected: number,
    private readonly limit = Infinity,
  ) {
    let cap = 1024;
    while (cap < expected * 2) cap *= 2;
    this.table = new Int32Array(cap * 4);
    this.mask = cap - 1;
    // The slot columns are filled in order, so room never used is pages never touched,
    // which hold no memory: made for up to twice the estimate (not past the proposals) at
    // once, not grown past it, where old and new columns were both resident (12-07, the 1M
    // bench on proxy cells: +286 MiB in the step that passed the estimate).
    const slots = Math.max(expected, Math.min(limit, expected * 2));
    this.a = new Int32Array(slots);
    this.b = new Int32Array(slots);
    this.evidence = new Float32Array(slots * K);
    this.coUse = new Float32Array(slots);
    this.coUseNets = new Uint32Array(slots);
  }

  /** The co-activity column, made (zeroed) on the first call. */
  activity(): Uint8Array {
    this.act ??= new Uint8Array(this.a.length);
    return this.act;
  }

  get hasActivity(): boolean {
    return this.act !== null;
  }

  private static hash(a: number, b: number): number {
    let h = Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca77);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    return (h ^ (h >>> 13)) >>> 0;
  }

  /** Slot of (a, b), or -1. */
  find(a: number, b: number): number {
    const t = this.table;
    let i = PairTable.hash(a, b) & this.mask;
    for (;;) {
      const at = i * 4;
      const s = (t[at + 2] as number) - 1;
      if (s < 0) return -1;
      if (t[at] === a && t[at + 1] === b) return s;
      i = (i + 1) & this.mask;
    }
  }

  /** Slot of (a, b), created (with zero evidence) if new. */
  slot(a: number, b: number): number {
    const t = this.table;
    let i = PairTable.hash(a, b) & this.mask;
    let at = i * 4;
    for (;;) {
      const s = (t[at + 2] as number) - 1;
      if (s < 0) break;
      if (t[at] === a && t[at + 1] === b) return s;
      i = (i + 1) & this.mask;
      at = i * 4;
    }
    const s = this.size++;
    if (s >= this.a.length) this.growSlots();
    this.a[s] = a;
    this.b[s] = b;
    t[at] = a;
    t[at + 1] = b;
    t[at + 2] = s + 1;
    if (this.size * 2 > this.mask + 1) this.rehash();
    return s;
  }

  private growSlots(): void {
    // Only when the pairs pass twice the estimate, or the proposals (co-use's part is
    // itself an estimate): a quarter more at a time (doubled while small), and not past
    // the proposals, as every column is copied and old and new are resident together.
    const length = this.a.length;
    const grown = length < 1 << 20 ? length * 2 : Math.ceil(length * 1.25);
    const cap = this.limit > length ? Math.min(grown, this.limit) : grown;
    const a = new Int32Array(cap);
    a.set(this.a);
    const b = new Int32Array(cap);
    b.set(this.b);
    const evidence = new Float32Array(cap * K);
    evidence.set(this.evidence);
    const coUse = new Float32Array(cap);
    coUse.set(this.coUse);
    this.coUse = coUse;
    const coUseNets = new Uint32Array(cap);
    coUseNets.set(this.coUseNets);
    this.coUseNets = coUseNets;
    if (this.act) {
      const act = new Uint8Array(cap);
      act.set(this.act);
      this.act = act;
    }
    this.a = a;
    this.b = b;
    this.evidence = evidence;
  }

  private rehash(): void {
    const cap = (this.mask + 1) * 2;
    const t = new Int32Array(cap * 4);
    this.mask = cap - 1;
    for (let s = 0; s < this.size; s++) {
      const a = this.a[s] as number;
      const b = this.b[s] as number;
      let i = PairTable.hash(a, b) & this.mask;
      while (t[i * 4 + 2] !== 0) i = (i + 1) & this.mask;
      t[i * 4] = a;
      t[i * 4 + 1] = b;
      t[i * 4 + 2] = s + 1;
    }
    this.table = t;
  }
}
