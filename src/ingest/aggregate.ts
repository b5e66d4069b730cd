/**
 * Folds a batch of clean events into the rows one write transaction needs:
 * one row per account and per (account, shared value), carrying counts and
 * first/last seen. This is why 16 M requests become a few million relationships
 * rather than 16 M nodes. Pure; rows come out sorted so writers lock in one order.
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

const LINK_FIELDS: [LinkKind, keyof CleanEvent][] = [
  ['payment', 'paymentMethod'],
  ['device', 'device'],
  ['ip', 'ip'],
  ['prompt', 'promptFingerprint'],
  ['emailDomain', 'emailDomain'],
  ['org', 'org'],
];

export function aggregate(events: readonly CleanEvent[]): BatchRows {
  const accounts = new Map<
    string,
    AccountRow & { hours: Map<number, number>; lastAttrAt: number }
  >();
  const links = new Map<string, LinkRow & { kind: LinkKind }>();
  const models = new Map<string, ModelRow & { hours: Map<number, number> }>();
  const capabilities = new Map<string, CapabilityRow>();

  for (const e of events) {
    let account = accounts.get(e.accountId);
    if (!account) {
      account = {
        id: e.accountId,
        firstSeen: e.at,
        lastSeen: e.at,
        signupAt: null,
        requests: 0,
        hourKeys: [],
        hourCounts: [],
        emailDomain: null,
        org: null,
        hours: new Map(),
        lastAttrAt: -Infinity,
      };
      accounts.set(e.accountId, account);
    }
    account.firstSeen = Math.min(account.firstSeen, e.at);
    account.lastSeen = Math.max(account.lastSeen, e.at);
    if (e.type === 'signup') account.signupAt = Math.min(account.signupAt ?? e.at, e.at);
    // The newest event that names a domain or org decides the account's current one.
    if ((e.emailDomain !== undefined || e.org !== undefined) && e.at >= account.lastAttrAt) {
      account.lastAttrAt = e.at;
      if (e.emailDomain !== undefined) account.emailDomain = e.emailDomain;
      if (e.org !== undefined) account.org = e.org;
    }

    for (const [kind, field] of LINK_FIELDS) {
      const value = e[field];
      if (typeof value !== 'string') continue;
      const key = `${kind}\u0000${e.accountId}\u0000${value}`;
      const link = links.get(key);
      if (link) {
        link.count++;
        link.firstSeen = Math.min(link.firstSeen, e.at);
        link.lastSeen = Math.max(link.lastSeen, e.at);
      } else {
        links.set(key, {
          kind,
          accountId: e.accountId,
          value,
          count: 1,
          firstSeen: e.at,
          lastSeen: e.at,
        });
      }
    }

    if (e.type !== 'request') continue;
    const hour = Math.floor(e.at / HOUR_MS);
    account.requests++;
    bump(account.hours, hour);
    if (e.model !== undefined) {
      const key = `${e.accountId}\u0000${e.model}`;
      let model = models.get(key);
      if (!model) {
        model = {
          accountId: e.accountId,
          model: e.model,
          count: 0,
          firstUse: e.at,
          lastUse: e.at,
          hourKeys: [],
          hourCounts: [],
          hours: new Map(),
        };
        models.set(key, model);
      }
      model.count++;
      model.firstUse = Math.min(model.firstUse, e.at);
      model.lastUse = Math.max(model.lastUse, e.at);
      bump(model.hours, hour);
    }
    if (e.capability !== undefined) {
      const key = `${e.accountId}\u0000${e.capability}`;
      const cap = capabilities.get(key) ?? {
        accountId: e.accountId,
        capability: e.capability,
        count: 0,
      };
      cap.count++;
      capabilities.set(key, cap);
    }
  }

  const rows: BatchRows = {
    accounts: [...accounts.values()].sort(byKey((a) => a.id)).map((a) => {
      const { hours, lastAttrAt: _lastAttrAt, ...row } = a;
      return { ...row, ...series(hours) };
    }),
    payment: [],
    device: [],
    ip: [],
    prompt: [],
    emailDomain: [],
    org: [],
    models: [...models.values()].sort(byKey((m) => `${m.accountId}\u0000${m.model}`)).map((m) => {
      const { hours, ...row } = m;
      return { ...row, ...series(hours) };
    }),
    capabilities: [...capabilities.values()].sort(
      byKey((c) => `${c.accountId}\u0000${c.capability}`),
    ),
  };
  const sortedLinks = [...links.values()].sort(byKey((l) => `${l.accountId}\u0000${l.value}`));
  for (const { kind, ...link } of sortedLinks) {
    if (kind === 'ip') rows.ip.push({ ...link, subnet: subnetOf(link.value) });
    else rows[kind].push(link);
  }
  return rows;
}

function bump(map: Map<number, number>, key: number): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function series(hours: Map<number, number>): { hourKeys: number[]; hourCounts: number[] } {
  const keys = [...hours.keys()].sort((a, b) => a - b);
  return { hourKeys: keys, hourCounts: keys.map((k) => hours.get(k) as number) };
}

function byKey<T>(key: (t: T) => string): (a: T, b: T) => number {
  return (a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  };
}
