/**
 * Folds a JSON-lines event file into a LinkageInput in memory, for the fast tuning
 * loop of the quality bench (in-memory.ts). The recorded figures come from the real
 * path (run.ts: importer → Neo4j → runner); this only mirrors it:
 *   - every line goes through the same cleaning as ingest (src/ingest/validate.ts:
 *     zod contract, raw prompts fingerprinted, canonical IPs);
 *   - batches are folded by the same `aggregate` the writer uses and merged the
 *     way the writer's Cypher merges them (counts add, first/last seen, min sign-up,
 *     latest batch's email domain / org, hour series summed per hour);
 *   - the result has the shape linkage extract produces: accounts in id order,
 *     one link per (account, shared value) with the events behind it, subnets
 *     summed per account over its IPs, `models` the sorted names of the models used
 *     (each account keeps its own first use of each; score reads releases from those);
 *   - links aged as extract ages them (src/linkage/link-age.ts): a link last seen longer
 *     before the newest account activity than its kind allows is left out.
 * It never reads the truth file.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { aggregate, type BatchRows } from '../../src/ingest/aggregate';
import type { CleanEvent } from '../../src/ingest/event-schema';
import { subnetOf } from '../../src/ingest/subnet';
import { cleanEvent } from '../../src/ingest/validate';
import { IdentifierTable } from '../../src/linkage/identifier-table';
import { type LinkMaxAge, notBefore } from '../../src/linkage/link-age';
import type {
  AccountFacts,
  Identifier,
  IdentifierKind,
  LinkageInput,
} from '../../src/linkage/types';

interface AccountState {
  firstSeen: number;
  lastSeen: number;
  signupAt: number | null;
  requests: number;
  hours: Map<number, number>;
  emailDomain: string | null;
  org: string | null;
}

interface ModelState {
  count: number;
  firstUse: number;
  hours: Map<number, number>;
}

const ROW_KINDS: [keyof BatchRows, IdentifierKind][] = [
  ['payment', 'payment'],
  ['device', 'device'],
  ['ip', 'ip'],
  ['prompt', 'prompt'],
  ['emailDomain', 'email_domain'],
  ['org', 'org'],
];

export interface FoldResult {
  input: LinkageInput;
  events: number;
  rejected: number;
}

/** A link as the writer's merge leaves it: the events behind it and when last seen. */
interface LinkState {
  count: number;
  lastSeen: number;
}

export async function foldEvents(
  file: string,
  linkMaxAge: LinkMaxAge = {},
  batchSize = 5000,
): Promise<FoldResult> {
  const accounts = new Map<string, AccountState>();
  // per account: kind → value → link
  const links = new Map<string, Map<string, LinkState>[]>();
  const models = new Map<string, Map<string, ModelState>>();
  const capabilities = new Map<string, Map<string, number>>();
  let events = 0;
  let rejected = 0;

  const kindIndex = new Map(ROW_KINDS.map(([, k], i) => [k, i]));
  const merge = (rows: BatchRows): void => {
    for (const r of rows.accounts) {
      let a = accounts.get(r.id);
      if (!a) {
        a = {
          firstSeen: r.firstSeen,
          lastSeen: r.lastSeen,
          signupAt: null,
          requests: 0,
          hours: new Map(),
          emailDomain: null,
          org: null,
        };
        accounts.set(r.id, a);
        links.set(
          r.id,
          ROW_KINDS.map(() => new Map()),
        );
      }
      a.firstSeen = Math.min(a.firstSeen, r.firstSeen);
      a.lastSeen = Math.max(a.lastSeen, r.lastSeen);
      if (r.signupAt !== null) a.signupAt = Math.min(a.signupAt ?? r.signupAt, r.signupAt);
      a.requests += r.requests;
      a.emailDomain = r.emailDomain ?? a.emailDomain;
      a.org = r.org ?? a.org;
      addSeries(a.hours, r.hourKeys, r.hourCounts);
    }
    for (const [rowKind, kind] of ROW_KINDS) {
      const k = kindIndex.get(kind) as number;
      type Row = { accountId: string; value: string; count: number; lastSeen: number };
      for (const l of rows[rowKind] as Row[]) {
        const byValue = (links.get(l.accountId) as Map<string, LinkState>[])[k]!;
        const had = byValue.get(l.value);
        if (had) {
          had.count += l.count;
          had.lastSeen = Math.max(had.lastSeen, l.lastSeen);
        } else byValue.set(l.value, { count: l.count, lastSeen: l.lastSeen });
      }
    }
    for (const m of rows.models) {
      let byModel = models.get(m.accountId);
      if (!byModel) models.set(m.accountId, (byModel = new Map()));
      let s = byModel.get(m.model);
      if (!s) byModel.set(m.model, (s = { count: 0, firstUse: m.firstUse, hours: new Map() }));
      s.count += m.count;
      s.firstUse = Math.min(s.firstUse, m.firstUse);
      addSeries(s.hours, m.hourKeys, m.hourCounts);
    }
    for (const c of rows.capabilities) {
      let byCap = capabilities.get(c.accountId);
      if (!byCap) capabilities.set(c.accountId, (byCap = new Map()));
      byCap.set(c.capability, (byCap.get(c.capability) ?? 0) + c.count);
    }
  };

  const raw = createReadStream(file);
  const lines = createInterface({
    input: file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw,
    crlfDelay: Infinity,
  });
  let batch: CleanEvent[] = [];
  for await (const line of lines) {
    if (line.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      rejected++;
      continue;
    }
    const r = cleanEvent(parsed);
    if (!r.ok) {
      rejected++;
      continue;
    }
    events++;
    batch.push(r.event);
    if (batch.length >= batchSize) {
      merge(aggregate(batch));
      batch = [];
    }
  }
  if (batch.length > 0) merge(aggregate(batch));

  // As extract: ages count back from the newest activity (no clock cap: simulated worlds
  // end before the clock does).
  let newest = -Infinity;
  for (const a of accounts.values()) newest = Math.max(newest, a.lastSeen);
  const since = notBefore(newest, linkMaxAge);
  return { input: toInput(accounts, links, models, capabilities, since), events, rejected };
}

function addSeries(into: Map<number, number>, keys: number[], counts: number[]): void {
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as number;
    into.set(k, (into.get(k) ?? 0) + (counts[i] ?? 0));
  }
}

function series(hours: Map<number, number>): { keys: number[]; counts: number[] } {
  const keys = [...hours.keys()].sort((a, b) => a - b);
  return { keys, counts: keys.map((k) => hours.get(k) as number) };
}

function toInput(
  accounts: Map<string, AccountState>,
  links: Map<string, Map<string, LinkState>[]>,
  models: Map<string, Map<string, ModelState>>,
  capabilities: Map<string, Map<string, number>>,
  since: Partial<Record<IdentifierKind, number | null>>,
): LinkageInput {
  const ids = [...accounts.keys()].sort();
  const identifiers: Identifier[] = [];
  const identifierIndex = new Map<string, number>();
  const la: number[] = [];
  const li: number[] = [];
  const lc: number[] = [];
  const modelNames = new Set<string>();
  const ipKind = ROW_KINDS.findIndex(([, k]) => k === 'ip');

  const link = (a: number, kind: IdentifierKind, value: string, count: number): void => {
    const key = `${kind}\u0000${value}`;
    let i = identifierIndex.get(key);
    if (i === undefined) {
      i = identifiers.length;
      identifiers.push({ kind, value });
      identifierIndex.set(key, i);
    }
    la.push(a);
    li.push(i);
    lc.push(count);
  };

  const out: AccountFacts[] = ids.map((id, a) => {
    const s = accounts.get(id) as AccountState;
    const perKind = links.get(id) as Map<string, LinkState>[];
    const subnets = new Map<string, number>();
    perKind.forEach((byValue, k) => {
      const kind = (ROW_KINDS[k] as [keyof BatchRows, IdentifierKind])[1];
      const oldest = since[kind] ?? -Infinity;
      for (const value of [...byValue.keys()].sort()) {
        const { count, lastSeen } = byValue.get(value)!;
        if (lastSeen < oldest) continue; // aged
        link(a, kind, value, count);
        if (k === ipKind) {
          const cidr = subnetOf(value);
          subnets.set(cidr, (subnets.get(cidr) ?? 0) + count);
        }
      }
    });
    for (const cidr of [...subnets.keys()].sort())
      link(a, 'subnet', cidr, subnets.get(cidr) as number);
    const used = [...(models.get(id)?.entries() ?? [])].sort(([x], [y]) => (x < y ? -1 : 1));
    for (const [name] of used) modelNames.add(name);
    return {
      id,
      signupAt: s.signupAt,
      firstSeen: s.firstSeen,
      lastSeen: s.lastSeen,
      requests: s.requests,
      hours: series(s.hours),
      emailDomain: s.emailDomain,
      org: s.org,
      models: used.map(([name, m]) => ({
        name,
        count: m.count,
        firstUse: m.firstUse,
        hours: series(m.hours),
      })),
      capabilities: [...(capabilities.get(id)?.entries() ?? [])]
        .sort(([x], [y]) => (x < y ? -1 : 1))
        .map(([name, count]) => ({ name, count })),
    };
  });

  return {
    accounts: out,
    identifiers: IdentifierTable.of(identifiers),
    linkAccount: Int32Array.from(la),
    linkIdentifier: Int32Array.from(li),
    linkCount: Float64Array.from(lc),
    models: [...modelNames].sort(),
    allowlist: [],
    previousClusters: [],
    previousRunId: null,
  };
}
