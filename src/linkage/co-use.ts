/**
 * Co-use: accounts that put much of their traffic on the same prompt template AND
 * come from the same network (/24 or /48 subnet). Either value alone may be common (a
 * campaign's template is sent by thousands of its accounts, a proxy exit carries
 * strangers), so neither proposes a pair (build.ts, step 3). Their conjunction is
 * rare: a (template, subnet) pair that carries a real share of both accounts' traffic
 * is what one operator's cell has in common, and nobody else. A ring that pays with
 * one card per account and shares no device is linked by nothing else (SIGNALS.md,
 * "Co-use"). Subnets, not IPs: a NAT pool or an office is one /24 and counts once,
 * while a cell rotating over proxies spans many.
 *
 * For each account: its templates with ≥ coUseMinEvents requests and ≥ coUseMinShare
 * of its prompt traffic, and its subnets with ≥ coUseMinEvents requests and
 * ≥ coUseMinSubnetShare of its traffic (at most coUseMaxPerKind of each: the busiest
 * templates, and a sample of the subnets by a hash of the value, see heavyValues);
 * every (template, subnet) of those is a *co-use value*. Accounts are grouped by co-use
 * value; a group is returned with its members ascending, the accounts on coUseMinSubnets
 * such subnets or more (no pair of the others could count), when two or more, and its
 * size, all its accounts. Cost:
 * Σ per account of templates × subnets kept, at most coUseMaxPerKind² each, and a
 * sort of those keys per template.
 */

export interface CoUseOptions {
  coUseMinEvents: number;
  coUseMinShare: number;
  coUseMinSubnetShare: number;
  coUseMaxPerKind: number;
  coUseMinSubnets: number;
  /** 0: co-use is off, no groups (the subnets are still found, for co-activity) */
  coUseWeight: number;
}

/** Accounts per value (CSR, members ascending) with each member's events on it. */
export interface ValueMembers {
  start: Int32Array;
  degree: Int32Array;
  members: Int32Array;
  events: Float32Array;
}

export interface CoUseGroups {
  /** CSR over groups: members of group g are members[start[g]..start[g+1]) */
  start: Int32Array;
  members: Int32Array;
  /** the subnet value of each group */
  subnet: Int32Array;
  /** the template value of each group; one template's groups are consecutive */
  template: Int32Array;
  /**
   * Per group, the accounts that use its value heavily, members or not: its rarity
   * (coUseWeight / ln(size + 5)) and its buckets go by them, as before members were
   * narrowed to those on coUseMinSubnets subnets.
   */
  size: Int32Array;
  count: number;
  /**
   * Per account (CSR), the subnets it takes part with: at most coUseMaxPerKind (≤ 16).
   * Every group an account is in has one of these as its subnet.
   */
  accountSubnets: { start: Int32Array; value: Int32Array };
}

/**
 * `isPrompt` / `isNetwork` (subnets) say which values take part (shared, not
 * allow-listed); `promptTotal` / `networkTotal` give an account's events of that kind.
 * Grouping uses typed arrays only: per template, its heavy accounts' (subnet, account)
 * keys sorted, so each run of one subnet is a group, members ascending.
 */
export function coUseGroups(
  n: number,
  vm: ValueMembers,
  isPrompt: (v: number) => boolean,
  isNetwork: (v: number) => boolean,
  promptTotal: (account: number) => number,
  networkTotal: (account: number) => number,
  opts: CoUseOptions,
): CoUseGroups {
  const networks = heavyValues(
    n,
    vm,
    isNetwork,
    networkTotal,
    opts.coUseMinSubnetShare,
    opts,
    'sketch',
  );
  if (opts.coUseWeight <= 0) {
    const none = new Int32Array(0);
    return {
      start: Int32Array.of(0),
      members: none,
      subnet: none,
      template: none,
      size: none,
      count: 0,
      accountSubnets: networks,
    };
  }
  const templates = heavyValues(n, vm, isPrompt, promptTotal, opts.coUseMinShare, opts, 'busiest');
  const V = vm.degree.length;
  // Accounts per template (CSR by template, accounts ascending): only templates some
  // account uses heavily.
  const tStart = new Int32Array(V + 1);
  for (let x = 0; x < templates.value.length; x++) {
    const t = (templates.value[x] as number) + 1;
    tStart[t] = (tStart[t] as number) + 1;
  }
  for (let v = 0; v < V; v++) tStart[v + 1] = (tStart[v + 1] as number) + (tStart[v] as number);
  const tFill = tStart.slice(0, V);
  const tAccounts = new Int32Array(templates.value.length);
  for (let a = 0; a < n; a++) {
    for (let x = templates.start[a] as number; x < (templates.start[a + 1] as number); x++) {
      const t = templates.value[x] as number;
      const at = tFill[t] as number;
      tFill[t] = at + 1;
      tAccounts[at] = a;
    }
  }
  const start: number[] = [];
  const members: number[] = [];
  const subnet: number[] = [];
  const template: number[] = [];
  const size: number[] = [];
  // Co-use counts for a pair only over coUseMinSubnets subnets both use: an account on
  // fewer gets none from any pair, so it is no member (its pairs are not proposed; one
  // egress of 50,000 heavy senders proposed 4.9 M such pairs, review, 12-07). It still
  // counts in the group's size.
  const takesPart = (a: number) =>
    (networks.start[a + 1] as number) - (networks.start[a] as number) >= opts.coUseMinSubnets;
  let keys = new Float64Array(64);
  for (let t = 0; t < V; t++) {
    const from = tStart[t] as number;
    const to = tStart[t + 1] as number;
    if (to - from < 2) continue;
    let k = 0;
    for (let x = from; x < to; x++) {
      const a = tAccounts[x] as number;
      const nTo = networks.start[a + 1] as number;
      for (let y = networks.start[a] as number; y < nTo; y++) {
        if (k === keys.length) {
          const grown = new Float64Array(keys.length * 2);
          grown.set(keys);
          keys = grown;
        }
        keys[k++] = (networks.value[y] as number) * n + a; // < V·n, far below 2^53
      }
    }
    const sorted = keys.subarray(0, k).sort();
    for (let i = 0; i < k;) {
      const s = Math.floor((sorted[i] as number) / n);
      let j = i + 1;
      while (j < k && Math.floor((sorted[j] as number) / n) === s) j++;
      const from = members.length;
      for (let x = i; x < j; x++) {
        const a = (sorted[x] as number) - s * n;
        if (takesPart(a)) members.push(a);
      }
      if (members.length - from >= 2) {
        start.push(from);
        subnet.push(s);
        template.push(t);
        size.push(j - i);
      } else members.length = from; // one member or none: no group
      i = j;
    }
  }
  start.push(members.length);
  return {
    start: Int32Array.from(start),
    members: Int32Array.from(members),
    subnet: Int32Array.from(subnet),
    template: Int32Array.from(template),
    size: Int32Array.from(size),
    count: subnet.length,
    accountSubnets: networks,
  };
}

/**
 * Per account (CSR), at most coUseMaxPerKind of its values of one kind that pass both
 * thresholds: the busiest ('busiest', templates: an account's main work), or those of
 * lowest value id ('sketch', subnets). Shared values' ids are in the order of a hash of
 * the value (build.ts, canonicalValues), so 'sketch' keeps a bottom-k sample by that
 * hash: members of a cell rotating over more subnets than the cap keep the same ones,
 * and so overlap on enough of them. By traffic, each kept its own busiest few, and a
 * cell over 20 subnets had co-use on 78 of its 190 pairs, over 30 on 19 (review, 12-05).
 */
function heavyValues(
  n: number,
  vm: ValueMembers,
  takes: (v: number) => boolean,
  kindTotal: (account: number) => number,
  minShare: number,
  opts: CoUseOptions,
  pick: 'busiest' | 'sketch',
) {
  const accStart = new Int32Array(n + 1);
  const V = vm.degree.length;
  const passes = (x: number): boolean => {
    const events = vm.events[x] as number;
    const a = vm.members[x] as number;
    return events >= opts.coUseMinEvents && events >= minShare * kindTotal(a);
  };
  for (let v = 0; v < V; v++) {
    if ((vm.degree[v] as number) < 2 || !takes(v)) continue;
    const from = vm.start[v] as number;
    for (let x = from; x < from + (vm.degree[v] as number); x++) {
      if (!passes(x)) continue;
      const a = (vm.members[x] as number) + 1;
      accStart[a] = (accStart[a] as number) + 1;
    }
  }
  for (let a = 0; a < n; a++)
    accStart[a + 1] = (accStart[a + 1] as number) + (accStart[a] as number);
  const fill = accStart.slice(0, n);
  const value = new Int32Array(accStart[n] as number);
  const events = new Float32Array(accStart[n] as number);
  for (let v = 0; v < V; v++) {
    if ((vm.degree[v] as number) < 2 || !takes(v)) continue;
    const from = vm.start[v] as number;
    for (let x = from; x < from + (vm.degree[v] as number); x++) {
      if (!passes(x)) continue;
      const a = vm.members[x] as number;
      const at = fill[a] as number;
      fill[a] = at + 1;
      value[at] = v;
      events[at] = vm.events[x] as number;
    }
  }
  // Keep coUseMaxPerKind per account, in place: the lowest value ids ('sketch': an
  // account's entries were filled value by value, so in id order already, and it is their
  // first ones), or the busiest (ties: lower value id).
  const keep = new Int32Array(n + 1);
  const idx: number[] = [];
  let out = 0;
  for (let a = 0; a < n; a++) {
    const from = accStart[a] as number;
    const to = accStart[a + 1] as number;
    keep[a] = out;
    if (to - from <= opts.coUseMaxPerKind || pick === 'sketch') {
      const end = Math.min(to, from + opts.coUseMaxPerKind);
      for (let x = from; x < end; x++) value[out++] = value[x] as number;
      continue;
    }
    idx.length = 0;
    for (let x = from; x < to; x++) idx.push(x);
    idx.sort(
      (p, q) =>
        (events[q] as number) - (events[p] as number) ||
        (value[p] as number) - (value[q] as number),
    );
    const chosen = idx.slice(0, opts.coUseMaxPerKind).map((x) => value[x] as number);
    for (const v of chosen) value[out++] = v;
  }
  keep[n] = out;
  // Only the kept entries: the tail past keep[n] is stale (coUseGroups counts every entry).
  return { start: keep, value: value.subarray(0, out) };
}
