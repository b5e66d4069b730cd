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
 * ≥ coUseMinSubnetShare of its traffic (at most coUseMaxPerKind of each, the busiest);
 * every (template, subnet) of those is a *co-use value*. Accounts are grouped by co-use
 * value in two passes over a Map keyed by the pair of value ids; a group of d ≥ 2
 * accounts is returned with its members ascending. Cost: Σ per account of
 * templates × IPs kept, at most coUseMaxPerKind² each.
 */

export interface CoUseOptions {
  coUseMinEvents: number;
  coUseMinShare: number;
  coUseMinSubnetShare: number;
  coUseMaxPerKind: number;
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
  count: number;
}

/**
 * `isPrompt` / `isNetwork` (subnets) say which values take part (shared, not allow-listed);
 * `promptTotal` / `networkTotal` are each account's events of that kind.
 */
export function coUseGroups(
  n: number,
  vm: ValueMembers,
  isPrompt: (v: number) => boolean,
  isNetwork: (v: number) => boolean,
  promptTotal: Float64Array,
  networkTotal: Float64Array,
  opts: CoUseOptions,
): CoUseGroups {
  const templates = heavyValues(n, vm, isPrompt, promptTotal, opts.coUseMinShare, opts);
  const networks = heavyValues(n, vm, isNetwork, networkTotal, opts.coUseMinSubnetShare, opts);
  const V = vm.degree.length;

  // Pass 1: accounts per co-use value.
  const counts = new Map<number, number>();
  forEachCoUse(n, templates, networks, V, (key) => counts.set(key, (counts.get(key) ?? 0) + 1));
  // Offsets for the values two or more accounts share; the rest are dropped.
  const offset = new Map<number, number>();
  let total = 0;
  for (const [key, c] of counts) {
    if (c < 2) continue;
    offset.set(key, total);
    total += c;
  }
  counts.clear();
  const start = new Int32Array(offset.size + 1);
  const group = new Map<number, number>();
  let g = 0;
  for (const [key, at] of offset) {
    group.set(key, g);
    start[g] = at;
    g++;
  }
  start[g] = total;
  // Pass 2: fill, accounts in ascending order so each group's members are sorted.
  const fill = start.slice(0, g);
  const members = new Int32Array(total);
  forEachCoUse(n, templates, networks, V, (key, a) => {
    const at = group.get(key);
    if (at === undefined) return;
    const i = fill[at] as number;
    fill[at] = i + 1;
    members[i] = a;
  });
  return { start, members, count: g };
}

/** Per account (CSR), its busiest values of one kind that pass both thresholds. */
function heavyValues(
  n: number,
  vm: ValueMembers,
  takes: (v: number) => boolean,
  kindTotal: Float64Array,
  minShare: number,
  opts: CoUseOptions,
) {
  const accStart = new Int32Array(n + 1);
  const V = vm.degree.length;
  const passes = (x: number): boolean => {
    const events = vm.events[x] as number;
    const a = vm.members[x] as number;
    return events >= opts.coUseMinEvents && events >= minShare * (kindTotal[a] as number);
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
  // Keep the busiest coUseMaxPerKind per account (ties: lower value id), in place.
  const keep = new Int32Array(n + 1);
  const idx: number[] = [];
  let out = 0;
  for (let a = 0; a < n; a++) {
    const from = accStart[a] as number;
    const to = accStart[a + 1] as number;
    keep[a] = out;
    if (to - from <= opts.coUseMaxPerKind) {
      for (let x = from; x < to; x++) {
        value[out] = value[x] as number;
        events[out++] = events[x] as number;
      }
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
  return { start: keep, value };
}

function forEachCoUse(
  n: number,
  templates: { start: Int32Array; value: Int32Array },
  networks: { start: Int32Array; value: Int32Array },
  V: number,
  visit: (key: number, account: number) => void,
): void {
  for (let a = 0; a < n; a++) {
    const tTo = templates.start[a + 1] as number;
    const iTo = networks.start[a + 1] as number;
    for (let t = templates.start[a] as number; t < tTo; t++) {
      const base = (templates.value[t] as number) * V;
      for (let i = networks.start[a] as number; i < iTo; i++)
        visit(base + (networks.value[i] as number), a);
    }
  }
}
