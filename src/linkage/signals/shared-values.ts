/**
 * Signals of what a cluster's members share: accounts per shared payment method and
 * subnet, concentration on prompt templates, and the ranked list of shared values a
 * reviewer reads. They read the per-identifier member counts `measure` fills in.
 */
import { linkEvents, type IdentifierKind, type ScoredCluster } from '../types';
import type { Context } from './context';
import { round } from './numbers';

/**
 * Accounts per shared value of one kind (payment or subnet), `ids` the values members
 * use that are not allow-listed, `listed` those that are:
 *   <kind>_values: distinct values used by members;
 *   <kind>_max_accounts: members on the most shared value;
 *   <kind>_mean_accounts: mean members per value (over all values members use);
 *   <kind>_mean_shared_accounts: for subnets, mean members per value shared by ≥ 2
 *     members, an allow-listed one counting 0 members (it stays in the denominator, so
 *     that listing a value can only lower the mean, never raise it by leaving the
 *     larger ones). For payment methods, per member on a value shared by ≥ 2 members,
 *     the members on its most shared one (an allow-listed one counting 0), averaged
 *     over those members: more cards shared by pairs of members cannot lower it, as
 *     they lowered the mean per value (a ring of 20 on one card beside 10 cards held by
 *     pairs read 3.6, not 20);
 *   <kind>_shared_member_share: share of members using a value shared by ≥ 2 members;
 *   <kind>_shared_per_member: mean number of values shared by ≥ 2 members that a member
 *     uses (their member counts summed, over members).
 */
export function sharingSignals(
  ctx: Context,
  members: number[],
  ids: number[],
  listed: number[],
  kind: 'payment' | 'subnet',
): Record<string, number> {
  let listedShared = 0;
  for (const id of listed) if (ctx.memberCount[id]! >= 2) listedShared++;
  let max = 0;
  let total = 0;
  let sharedValues = 0;
  let sharedTotal = 0;
  for (const id of ids) {
    const c = ctx.memberCount[id]!;
    total += c;
    if (c > max) max = c;
    if (c >= 2) {
      sharedValues++;
      sharedTotal += c;
    }
  }
  let membersOnShared = 0;
  // per member on any value shared by ≥ 2 (allow-listed or not): its most shared one's count
  let membersOnAnyShared = 0;
  let sumOfMost = 0;
  if (sharedValues + listedShared > 0) {
    const { input } = ctx;
    for (const a of members) {
      let most = 0;
      let onShared = false;
      for (let p = ctx.linkStart[a]!; p < ctx.linkStart[a + 1]!; p++) {
        const id = input.linkIdentifier[ctx.linkOrder[p]!]!;
        if (input.identifiers.kind(id) !== kind || ctx.memberCount[id]! < 2) continue;
        onShared = true;
        if (!ctx.allowed[id]) most = Math.max(most, ctx.memberCount[id]!);
      }
      if (!onShared) continue;
      membersOnAnyShared++;
      sumOfMost += most;
      if (most > 0) membersOnShared++;
    }
  }
  const meanShared =
    sharedValues === 0
      ? 0
      : kind === 'payment'
        ? sumOfMost / membersOnAnyShared
        : sharedTotal / (sharedValues + listedShared);
  return {
    [`${kind}_values`]: ids.length,
    [`${kind}_max_accounts`]: max,
    [`${kind}_mean_accounts`]: ids.length > 0 ? round(total / ids.length) : 0,
    [`${kind}_mean_shared_accounts`]: round(meanShared),
    [`${kind}_shared_member_share`]:
      members.length > 0 ? round(membersOnShared / members.length) : 0,
    [`${kind}_shared_per_member`]: members.length > 0 ? round(sharedTotal / members.length) : 0,
  };
}

/**
 * Prompt templates (near-duplicate fingerprints grouped once per run, Hamming ≤ maxHamming):
 *   template_count: distinct templates members sent;
 *   template_top_share: share of members' prompt traffic on the top-k templates shared
 *     by ≥ 2 members, each template's traffic weighted by its exclusivity (top-k by
 *     weighted traffic); the denominator is all their prompt traffic, allow-listed
 *     prompts included (they only leave the numerator);
 *   template_top_exclusivity: exclusivity of the top template = the members' requests
 *     on it / (those + its requests from accounts in no community). A framework prompt
 *     sent by thousands of unrelated developers whom no community claims is near 0; a
 *     ring's own template, sent by the ring's sub-groups (each a community of its own),
 *     stays near 1 even when split over many clusters or sent once each in many
 *     variants by a few unclustered accounts;
 *   template_shared_member_share: share of members sending a shared template.
 * Returns, for sharedIdentifiers, each shared template's most used fingerprint with
 * the template's member count.
 */
export function templateSignals(
  ctx: Context,
  members: number[],
): {
  signals: Record<string, number>;
  representatives: Map<number, number>;
  /** the members' requests that carried a prompt fingerprint */
  promptRequests: number;
} {
  const { input, opts, tpl } = ctx;
  const representatives = new Map<number, number>();
  const touched: number[] = [];
  let totalRequests = 0;
  let membersOnShared = 0;
  for (const a of members) {
    for (let p = ctx.linkStart[a]!; p < ctx.linkStart[a + 1]!; p++) {
      const l = ctx.linkOrder[p]!;
      const id = input.linkIdentifier[l]!;
      const t = ctx.promptTemplate[id]!;
      if (t < 0) continue;
      const req = linkEvents(input, l);
      // The denominator is all the members' prompt traffic, allow-listed or not: dropping
      // an allow-listed prompt from it would raise the share of what remains, so that
      // allow-listing a benign value could raise a cluster's risk.
      totalRequests += req;
      if (ctx.allowed[id]) continue;
      if (tpl.last[t] === -1) touched.push(t);
      tpl.requests[t] = tpl.requests[t]! + req;
      const rep = tpl.rep[t]!;
      // ties: the lower fingerprint, not the first listed (link order is no promise)
      if (
        rep < 0 ||
        ctx.memberCount[id]! > ctx.memberCount[rep]! ||
        (id !== rep &&
          ctx.memberCount[id] === ctx.memberCount[rep] &&
          input.identifiers.value(id) < input.identifiers.value(rep))
      )
        tpl.rep[t] = id;
      if (tpl.last[t] !== a) {
        tpl.last[t] = a;
        tpl.members[t] = tpl.members[t]! + 1;
      }
    }
  }
  const shared = touched.filter((t) => tpl.members[t]! >= 2);
  if (shared.length > 0) {
    for (const a of members) {
      for (let p = ctx.linkStart[a]!; p < ctx.linkStart[a + 1]!; p++) {
        const id = input.linkIdentifier[ctx.linkOrder[p]!]!;
        const t = ctx.promptTemplate[id]!;
        if (t >= 0 && !ctx.allowed[id] && tpl.members[t]! >= 2) {
          membersOnShared++;
          break;
        }
      }
    }
  }
  // by requests, not links: a link sending one request must not weigh as much as a
  // member's hundreds, or a few throwaway accounts sending many variants once each
  // cancel a ring's template
  const exclusivity = (t: number): number => {
    const all = tpl.requests[t]! + ctx.templateUnclustered[t]!;
    return all > 0 ? tpl.requests[t]! / all : 0;
  };
  const weighted = (t: number): number => tpl.requests[t]! * exclusivity(t);
  // ties: by representative fingerprint, not template number (which follows input order)
  const repText = new Map(shared.map((t) => [t, input.identifiers.value(tpl.rep[t]!)]));
  const repValue = (t: number): string => repText.get(t)!;
  shared.sort(
    (x, y) =>
      weighted(y) - weighted(x) ||
      (repValue(x) < repValue(y) ? -1 : repValue(x) > repValue(y) ? 1 : 0),
  );
  let topWeighted = 0;
  for (const t of shared.slice(0, opts.templateTopK)) topWeighted += weighted(t);
  const top = shared[0];
  for (const t of shared) representatives.set(tpl.rep[t]!, tpl.members[t]!);
  const signals = {
    template_count: touched.length,
    template_top_share: totalRequests > 0 ? round(topWeighted / totalRequests) : 0,
    template_top_exclusivity: top !== undefined ? round(exclusivity(top)) : 0,
    template_shared_member_share: round(membersOnShared / members.length),
  };
  for (const t of touched) {
    tpl.requests[t] = 0;
    tpl.members[t] = 0;
    tpl.last[t] = -1;
    tpl.rep[t] = -1;
  }
  return { signals, representatives, promptRequests: totalRequests };
}

/**
 * Strongest shared values first: kindRank × members sharing it; prompts are reported
 * once per template (its most used fingerprint, with the template's member count).
 */
export function rankShared(
  ctx: Context,
  touched: number[],
  promptRepresentatives: Map<number, number>,
): ScoredCluster['sharedIdentifiers'] {
  const { input, opts } = ctx;
  const rows: { kind: IdentifierKind; value: string; members: number; rank: number }[] = [];
  for (const id of touched) {
    const kind = input.identifiers.kind(id);
    let count: number;
    if (kind === 'prompt') {
      const c = promptRepresentatives.get(id);
      if (c === undefined) continue;
      count = c;
    } else {
      count = ctx.memberCount[id]!;
    }
    if (count < 2) continue;
    rows.push({
      kind,
      value: input.identifiers.value(id),
      members: count,
      rank: count * (opts.kindRank[kind] ?? 0.1),
    });
  }
  rows.sort(
    (a, b) =>
      b.rank - a.rank ||
      b.members - a.members ||
      (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0) ||
      (a.value < b.value ? -1 : a.value > b.value ? 1 : 0),
  );
  return rows
    .slice(0, opts.sharedIdentifiersCap)
    .map(({ kind, value, members }) => ({ kind, value, members }));
}
