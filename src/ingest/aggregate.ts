/**
 * Folds a batch of clean events into the rows one write transaction needs:
 * one row per account and per (account, shared value), carrying counts and
 * first/last seen. This is why 16 M requests become a few million relationships
 * rather than 16 M nodes. Pure; rows come out sorted (accounts by id: the order
 * writers lock them in), so a fold's output never depends on the input's order.
 */
import type { CleanEvent } from './event-schema';
import { subnetOf } from './subnet';

const HOUR_MS = 3_600_000;

export interface AccountRow {
  id: string;
  firstSeen: number;
  lastSeen: number;
  signupAt: number | null;
  requests: number;
  hourKeys: number[];
  hourCounts: number[];
  emailDomain: string | null;
  org: string | null;
  /** when the event that named `emailDomain` (`org`) happened: a later write keeps the newer */
  emailDomainAt: number | null;
  orgAt: number | null;
}

export interface LinkRow {
  accountId: string;
  value: string;
  count: number;
  firstSeen: number;
  lastSeen: number;
}

export interface IpLinkRow extends LinkRow {
  subnet: string;
}

export interface ModelRow {
  accountId: string;
  model: string;
  count: number;
  firstUse: number;
  lastUse: number;
  hourKeys: number[];
  hourCounts: number[];
}

export interface CapabilityRow {
  accountId: string;
  capability: string;
  count: number;
}

export interface BatchRows {
  accounts: AccountRow[];
  payment: LinkRow[];
  device: LinkRow[];
  ip: IpLinkRow[];
  prompt: LinkRow[];
  emailDomain: LinkRow[];
  org: LinkRow[];
  models: ModelRow[];
  capabilities: CapabilityRow[];
}

type LinkKind = 'payment' | 'device' | 'ip' | 'prompt' | 'emailDomain' | 'org';

interface Span {
  count: number;
  first: number;
  last: number;
}

/**
 * Whether a value named at `at` replaces the `current` one named at `since`: the newer
 * wins, and on equal times the greater string (UTF-16 order, as JavaScript's `>` and
 * Neo4j 5.26's `>` both compare, beyond the BMP too: ingest.test checks they agree).
 * The winner is a function of the events alone, never of the order they are written
 * in (merge-accounts.cypher applies the same rule).
 */
function replaces(at: number, value: string, since: number, current: string | null): boolean {
  return at > since || (at === since && current !== null && value > current);
}

interface ModelState extends Span {
  hours: Map<number, number>;
}

/** Everything one account accumulated; links keyed by kind, then value. */
interface AccountState {
  firstSeen: number;
  lastSeen: number;
  signupAt: number | null;
  /** events folded in, of every type (an import counts what each part wrote) */
  events: number;
  requests: number;
  emailDomain: string | null;
  org: string | null;
  /** when the current emailDomain / org was sent (-Infinity: never) */
  emailFrom: number;
  orgFrom: number;
  hours: Map<number, number>;
  links: Map<LinkKind, Map<string, Span>>;
  models: Map<string, ModelState>;
  capabilities: Map<string, number>;
}

/**
 * Incremental fold: `add` events one at a time (in any order: every aggregate is
 * a count, min, max or "newest wins"), then `rows()`. The importer folds a whole
 * window of events this way, so an account's many requests become one row per
 * shared value however spread out they are.
 */
export class Aggregator {
  private accounts = new Map<string, AccountState>();

  add(e: CleanEvent): void {
    let account = this.accounts.get(e.accountId);
    if (!account) {
      account = {
        firstSeen: e.at,
        lastSeen: e.at,
        signupAt: null,
        events: 0,
        requests: 0,
        emailDomain: null,
        org: null,
        emailFrom: -Infinity,
        orgFrom: -Infinity,
        hours: new Map(),
        links: new Map(),
        models: new Map(),
        capabilities: new Map(),
      };
      this.accounts.set(e.accountId, account);
    }
    account.events++;
    if (e.at < account.firstSeen) account.firstSeen = e.at;
    if (e.at > account.lastSeen) account.lastSeen = e.at;
    if (e.type === 'signup') account.signupAt = Math.min(account.signupAt ?? e.at, e.at);
    // The newest event that names a domain (an org) decides the account's current one.
    if (
      e.emailDomain !== undefined &&
      replaces(e.at, e.emailDomain, account.emailFrom, account.emailDomain)
    ) {
      account.emailDomain = e.emailDomain;
      account.emailFrom = e.at;
    }
    if (e.org !== undefined && replaces(e.at, e.org, account.orgFrom, account.org)) {
      account.org = e.org;
      account.orgFrom = e.at;
    }

    // One call per field rather than a loop over field names: constant property reads.
    link(account, 'payment', e.paymentMethod, e.at);
    link(account, 'device', e.device, e.at);
    link(account, 'ip', e.ip, e.at);
    link(account, 'prompt', e.promptFingerprint, e.at);
    link(account, 'emailDomain', e.emailDomain, e.at);
    link(account, 'org', e.org, e.at);

    if (e.type !== 'request') return;
    const hour = Math.floor(e.at / HOUR_MS);
    account.requests++;
    bump(account.hours, hour);
    if (e.model !== undefined) {
      let model = account.models.get(e.model);
      if (model) touch(model, e.at);
      else {
        model = { count: 1, first: e.at, last: e.at, hours: new Map() };
        account.models.set(e.model, model);
      }
      bump(model.hours, hour);
    }
    if (e.capability !== undefined) {
      account.capabilities.set(e.capability, (account.capabilities.get(e.capability) ?? 0) + 1);
    }
  }

  /**
   * Adds another fold's accounts (a fold of other events): the result is the fold of
   * all those events.
   * `other` is consumed: its maps may be taken over.
   */
  merge(other: Aggregator): void {
    for (const [id, b] of other.accounts) {
      const a = this.accounts.get(id);
      if (!a) {
        this.accounts.set(id, b);
        continue;
      }
      a.firstSeen = Math.min(a.firstSeen, b.firstSeen);
      a.lastSeen = Math.max(a.lastSeen, b.lastSeen);
      if (b.signupAt !== null) a.signupAt = Math.min(a.signupAt ?? b.signupAt, b.signupAt);
      a.events += b.events;
      a.requests += b.requests;
      if (
        b.emailDomain !== null &&
        replaces(b.emailFrom, b.emailDomain, a.emailFrom, a.emailDomain)
      )
        [a.emailDomain, a.emailFrom] = [b.emailDomain, b.emailFrom];
      if (b.org !== null && replaces(b.orgFrom, b.org, a.orgFrom, a.org))
        [a.org, a.orgFrom] = [b.org, b.orgFrom];
      addCounts(a.hours, b.hours);
      for (const [kind, bValues] of b.links) {
        const aValues = a.links.get(kind);
        if (!aValues) a.links.set(kind, bValues);
        else for (const [value, span] of bValues) mergeSpan(aValues, value, span);
      }
      for (const [name, bm] of b.models) {
        const am = a.models.get(name);
        if (!am) a.models.set(name, bm);
        else {
          mergeSpan(a.models, name, bm);
          addCounts(am.hours, bm.hours);
        }
      }
      addCounts(a.capabilities, b.capabilities);
    }
    other.accounts = new Map();
  }

  /** How many events of these accounts were folded in. */
  eventsOf(ids: readonly string[]): number {
    let n = 0;
    for (const id of ids) n += this.accounts.get(id)?.events ?? 0;
    return n;
  }

  /** `rows(ids)`, then forgets those accounts (a big fold written out chunk by chunk). */
  take(ids: readonly string[]): BatchRows {
    const rows = this.rows(ids);
    for (const id of ids) this.accounts.delete(id);
    return rows;
  }

  /** The fold's state as plain data (structured-cloneable: for worker threads). */
  state(): Map<string, unknown> {
    return this.accounts;
  }

  /** A fold from `state()` of another (e.g. a worker's). */
  static fromState(state: Map<string, unknown>): Aggregator {
    const a = new Aggregator();
    a.accounts = state as Map<string, AccountState>;
    return a;
  }

  /**
   * Sorted account ids cut into groups of at most ~maxRows rows each (an account's
   * rows are never split). Deterministic: the same events give the same groups,
   * which is what lets an interrupted import skip the groups it already wrote.
   */
  partition(maxRows: number): string[][] {
    const groups: string[][] = [];
    let group: string[] = [];
    let rows = 0;
    for (const id of [...this.accounts.keys()].sort(compare)) {
      const a = this.accounts.get(id) as AccountState;
      let n = 1 + a.models.size + a.capabilities.size;
      for (const byValue of a.links.values()) n += byValue.size;
      if (group.length > 0 && rows + n > maxRows) {
        groups.push(group);
        group = [];
        rows = 0;
      }
      group.push(id);
      rows += n;
    }
    if (group.length > 0) groups.push(group);
    return groups;
  }

  /**
   * Rows sorted by account id, then value. Accounts are locked in this order; the
   * writer re-sorts each kind's link rows by value, the order values are locked in.
   */
  rows(ids?: readonly string[]): BatchRows {
    const rows: BatchRows = {
      accounts: [],
      payment: [],
      device: [],
      ip: [],
      prompt: [],
      emailDomain: [],
      org: [],
      models: [],
      capabilities: [],
    };
    for (const id of ids ?? [...this.accounts.keys()].sort(compare)) {
      const a = this.accounts.get(id);
      if (!a) continue;
      rows.accounts.push({
        id,
        firstSeen: a.firstSeen,
        lastSeen: a.lastSeen,
        signupAt: a.signupAt,
        requests: a.requests,
        ...series(a.hours),
        emailDomain: a.emailDomain,
        org: a.org,
        emailDomainAt: a.emailDomain === null ? null : a.emailFrom,
        orgAt: a.org === null ? null : a.orgFrom,
      });
      for (const [kind, byValue] of a.links) {
        for (const value of [...byValue.keys()].sort(compare)) {
          const s = byValue.get(value) as Span;
          const link = {
            accountId: id,
            value,
            count: s.count,
            firstSeen: s.first,
            lastSeen: s.last,
          };
          if (kind === 'ip') {
            // Not {...link, subnet}: object spread is slow, and this runs per IP link.
            const row = link as IpLinkRow;
            row.subnet = subnetOf(value);
            rows.ip.push(row);
          } else rows[kind].push(link);
        }
      }
      for (const model of [...a.models.keys()].sort(compare)) {
        const m = a.models.get(model) as ModelState;
        rows.models.push({
          accountId: id,
          model,
          count: m.count,
          firstUse: m.first,
          lastUse: m.last,
          ...series(m.hours),
        });
      }
      for (const capability of [...a.capabilities.keys()].sort(compare)) {
        const count = a.capabilities.get(capability) as number;
        rows.capabilities.push({ accountId: id, capability, count });
      }
    }
    return rows;
  }
}

/** Folds a whole list of events at once (the bench's reference; the writer folds incrementally). */
export function aggregate(events: readonly CleanEvent[]): BatchRows {
  const aggregator = new Aggregator();
  for (const e of events) aggregator.add(e);
  return aggregator.rows();
}

function link(account: AccountState, kind: LinkKind, value: string | undefined, at: number): void {
  if (value === undefined) return;
  let byValue = account.links.get(kind);
  if (!byValue) {
    byValue = new Map();
    account.links.set(kind, byValue);
  }
  const span = byValue.get(value);
  if (span) touch(span, at);
  else byValue.set(value, { count: 1, first: at, last: at });
}

function touch(span: Span, at: number): void {
  span.count++;
  if (at < span.first) span.first = at;
  if (at > span.last) span.last = at;
}

function mergeSpan<S extends Span>(into: Map<string, S>, key: string, span: S): void {
  const mine = into.get(key);
  if (!mine) {
    into.set(key, span);
    return;
  }
  mine.count += span.count;
  if (span.first < mine.first) mine.first = span.first;
  if (span.last > mine.last) mine.last = span.last;
}

function addCounts<K>(into: Map<K, number>, from: Map<K, number>): void {
  for (const [k, n] of from) into.set(k, (into.get(k) ?? 0) + n);
}

function bump(map: Map<number, number>, key: number): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function series(hours: Map<number, number>): { hourKeys: number[]; hourCounts: number[] } {
  const keys = [...hours.keys()].sort((a, b) => a - b);
  return { hourKeys: keys, hourCounts: keys.map((k) => hours.get(k) as number) };
}

/** Code-unit order of strings (not locale order): the one order every writer sorts by. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
