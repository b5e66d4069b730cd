/**
 * Allow-list of known-benign shared values (a cloud egress IP, a university
 * subnet, a framework's prompt fingerprint) that never link accounts.
 *
 * Two sources: config (LINKAGE_ALLOWLIST="kind:value,…", read-only) and
 * (:AllowlistEntry) nodes written by the admin API (or analysts' verdicts).
 * Values are validated and put in the same canonical form ingest stores them in
 * (IPs canonical, subnets as ingest derives them, domains and fingerprints lower
 * case), so an entry matches the graph's value exactly; a `subnet` may also be a wider
 * range (subnet-ranges.ts), which covers every /24 or /48 and address inside it.
 * Applied at the next run.
 */
import { createHash, randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import { parseDomain } from '../ingest/event-schema';
import { canonicalFingerprint } from '../ingest/simhash';
import { canonicalIp, canonicalRange, rangeHint } from '../ingest/subnet';
import { query, type CypherMap } from '../platform/cypher';
import { failedWriteOutcome, type AuditLog, type AuditRecord } from '../platform/audit';
import type { Principal } from '../platform/auth';
import { AppError } from '../platform/errors';
import { isWellFormed, NOT_UNICODE } from '../platform/unicode-text';
import { type Database, type ManagedTransaction, type Reader, toPlain } from '../platform/neo4j';
import { SubnetRanges } from './subnet-ranges';
import { IDENTIFIER_KINDS, type Identifier, type IdentifierKind } from './types';

export type AllowlistSource = 'config' | 'api' | 'verdict';

export interface AllowlistEntry extends Identifier {
  source: AllowlistSource;
  note: string | null;
  addedBy: string | null;
  /** epoch ms; null for config entries */
  addedAt: number | null;
}

export function isIdentifierKind(kind: string): kind is IdentifierKind {
  return (IDENTIFIER_KINDS as readonly string[]).includes(kind);
}

/** Kinds ingest stores exactly as sent (opaque to it): listed exactly as given, too. */
const AS_SENT: ReadonlySet<IdentifierKind> = new Set(['payment', 'device', 'org']);

/**
 * The canonical form of a value of a kind, or an Error message saying why it is not one:
 * the form ingest stores, so that every value a run can link on can be listed. Addresses,
 * subnets, fingerprints and e-mail domains are put in ingest's canonical form (surrounding
 * spaces dropped); payment methods, devices and orgs are taken as sent, spaces and all.
 */
export function normaliseValue(kind: IdentifierKind, raw: string): string | { error: string } {
  const value = AS_SENT.has(kind) ? raw : raw.trim();
  if (value.length === 0 || value.length > 256) return { error: 'must be 1-256 characters' };
  if (!isWellFormed(value)) return { error: NOT_UNICODE };
  switch (kind) {
    case 'ip':
      return isIP(value) ? canonicalIp(value) : { error: 'must be an IPv4 or IPv6 address' };
    case 'subnet':
      return (
        canonicalRange(value) ?? {
          error:
            rangeHint(value) ??
            'must be an IPv4 /8 to /24 or an IPv6 /16 to /48 in CIDR form (e.g. 10.1.2.0/24, 10.1.16.0/20)',
        }
      );
    case 'prompt':
      return (
        canonicalFingerprint(value) ?? { error: 'must be a 64-bit SimHash: 16 hex characters' }
      );
    case 'email_domain':
      return parseDomain(value);
    default:
      return value;
  }
}

/** Entry key as stored on (:AllowlistEntry {key}). */
export function entryKey(kind: IdentifierKind, value: string): string {
  return `${kind}:${value}`;
}

/**
 * Parses LINKAGE_ALLOWLIST ("kind:value,kind:value"; IPv6 values keep their
 * colons: only the first colon separates). Throws on a bad entry so a typo stops
 * start-up instead of silently linking accounts.
 */
export function parseConfigAllowlist(spec: string): AllowlistEntry[] {
  const entries: AllowlistEntry[] = [];
  const seen = new Set<string>();
  for (const part of spec.split(',')) {
    const text = part.trim();
    if (text.length === 0) continue;
    const colon = text.indexOf(':');
    const kind = colon > 0 ? text.slice(0, colon) : '';
    if (!isIdentifierKind(kind)) {
      throw new Error(
        `LINKAGE_ALLOWLIST entry "${text}" must be kind:value with kind one of ${IDENTIFIER_KINDS.join(', ')} (entries are separated by commas, so a value holding one cannot be listed here: POST it to /v1/allowlist)`,
      );
    }
    // spaces around the colon are the config's layout, not the value's
    const value = normaliseValue(kind, text.slice(colon + 1).trim());
    if (typeof value !== 'string')
      throw new Error(`LINKAGE_ALLOWLIST entry "${text}": value ${value.error}`);
    if (seen.has(entryKey(kind, value))) continue;
    seen.add(entryKey(kind, value));
    entries.push({ kind, value, source: 'config', note: null, addedBy: null, addedAt: null });
  }
  return entries;
}

/** Entries stored in the graph. */
export async function readStoredAllowlist(
  db: Reader,
  cypher: CypherMap,
): Promise<AllowlistEntry[]> {
  return db.read(async (tx) => {
    const res = await tx.run(query(cypher, 'linkage/read-allowlist-entries'));
    return res.records.map((r) => {
      const row = toPlain(r.toObject()) as Record<string, unknown>;
      return {
        kind: row.kind as IdentifierKind,
        value: String(row.value),
        source: (row.source ?? 'api') as AllowlistSource,
        note: (row.note as string | null) ?? null,
        addedBy: (row.addedBy as string | null) ?? null,
        addedAt: (row.addedAt as number | null) ?? null,
      };
    });
  });
}

/** The keys (`kind:value`) LINKAGE_ALLOWLIST lists. */
export function configAllowlistKeys(spec: string): Set<string> {
  return new Set(parseConfigAllowlist(spec).map((e) => entryKey(e.kind, e.value)));
}

/**
 * Whether LINKAGE_ALLOWLIST covers a value as a run takes it: lists it, or, for an address
 * or a /24 (/48), holds it in a listed block (subnet-ranges.ts).
 */
export function configCovers(spec: string): (kind: string, value: string) => boolean {
  const keys = configAllowlistKeys(spec);
  const ranges = new SubnetRanges(
    [...keys].filter((k) => k.startsWith('subnet:')).map((k) => k.slice('subnet:'.length)),
  );
  return (kind, value) =>
    keys.has(`${kind}:${value}`) ||
    (kind === 'ip' && ranges.coversIp(value)) ||
    (kind === 'subnet' && ranges.coversSubnet(value));
}

/**
 * A value the graph holds, in the form an entry for it is stored in: today's spelling
 * (an older graph may hold `gmail.com.`), or as it is when today's rules refuse it.
 */
export function listedForm(kind: string, value: string): string {
  const listed = isIdentifierKind(kind) ? normaliseValue(kind, value) : value;
  return typeof listed === 'string' ? listed : value;
}

/** Config entries first, then stored ones (a value in both is listed from config only). */
export async function listAllowlist(
  db: Database,
  cypher: CypherMap,
  configSpec: string,
): Promise<AllowlistEntry[]> {
  const fromConfig = parseConfigAllowlist(configSpec);
  const keys = configAllowlistKeys(configSpec);
  // a twin in an older spelling (`gmail.com.`) is hidden too: DELETE would refuse it
  const stored = (await readStoredAllowlist(db, cypher)).filter(
    (e) => !keys.has(entryKey(e.kind, listedForm(e.kind, e.value))),
  );
  return [...fromConfig, ...stored];
}

/** A value in its canonical form, or 400 validation_failed saying why it is not one. */
function canonicalValue(kind: IdentifierKind, raw: string): string {
  const value = normaliseValue(kind, raw);
  if (typeof value !== 'string') {
    throw new AppError('validation_failed', 'request is invalid', {
      details: [{ path: 'value', message: value.error }],
    });
  }
  return value;
}

/**
 * The value a DELETE names: its canonical form, or, for a value today's rules refuse, the
 * value exactly as stored (an older graph's entry, which GET lists and every run applies
 * as it is); 400 when it is neither.
 */
async function deletableValue(
  db: Database,
  cypher: CypherMap,
  kind: IdentifierKind,
  raw: string,
): Promise<string> {
  const value = normaliseValue(kind, raw);
  if (typeof value === 'string') return value;
  const stored = await readStoredAllowlist(db, cypher);
  if (stored.some((e) => e.kind === kind && e.value === raw)) return raw;
  return canonicalValue(kind, raw); // its 400
}

/**
 * Runs an allow-list change in a write transaction that also writes its audit entry
 * (outcome "ok"); a change that fails is audited afterwards with its error code. A value
 * that is not one of its kind is refused before this (400, not audited).
 */
async function auditedChange<T>(
  db: Database,
  audit: AuditLog,
  entry: Omit<AuditRecord, 'outcome'>,
  work: (
    tx: ManagedTransaction,
    auditId: string,
  ) => Promise<{ result: T; params?: Record<string, unknown> }>,
): Promise<T> {
  // Made once, not per attempt: the driver may run the function again after a commit
  // whose answer was lost, and then the entry that commit wrote is found, not added twice.
  // The failure's entry takes it too, so a commit that went through before the retries
  // were spent keeps its "ok" entry, not a second one that contradicts it.
  const auditId = randomUUID();
  try {
    const { result, committed } = await db.write(async (tx) => {
      const { result, params } = await work(tx, auditId);
      const committed = await audit.recordInTx(
        tx,
        { ...entry, params: { ...entry.params, ...params }, outcome: 'ok' },
        auditId,
      );
      return { result, committed };
    });
    audit.logCommitted(committed);
    return result;
  } catch (err) {
    const { outcome, error } = failedWriteOutcome(err);
    await audit.record(
      { ...entry, params: error ? { ...entry.params, error } : entry.params, outcome },
      auditId,
    );
    throw err;
  }
}

/** The LINKAGE_ALLOWLIST entry for this key, if config lists it. */
function configEntry(configSpec: string, key: string): AllowlistEntry | undefined {
  return parseConfigAllowlist(configSpec).find((e) => entryKey(e.kind, e.value) === key);
}

function configConflict(kind: IdentifierKind, value: string, message: string): AppError {
  return new AppError('conflict', message, { details: { kind, value, source: 'config' } });
}

/**
 * Adds an entry, or updates the note of one already stored: a note given replaces it (an
 * empty one clears it), none keeps it; source, addedBy and addedAt stay as first added.
 * A value LINKAGE_ALLOWLIST lists is already listed: answered as it is, nothing stored,
 * and a note for it is refused (409: config entries have none). Audited
 * (`allowlist_add`) with `created` saying which it was.
 */
export async function addAllowlistEntry(
  db: Database,
  cypher: CypherMap,
  audit: AuditLog,
  actor: Principal,
  configSpec: string,
  entry: { kind: IdentifierKind; value: string; note?: string },
  source: Exclude<AllowlistSource, 'config'> = 'api',
): Promise<{ entry: AllowlistEntry; created: boolean }> {
  const value = canonicalValue(entry.kind, entry.value);
  const key = entryKey(entry.kind, value);
  const given = entry.note !== undefined;
  const record = {
    actor,
    action: 'allowlist_add' as const,
    target: key,
    params: { kind: entry.kind, value, ...(given ? { note: entry.note } : {}) },
  };
  const fromConfig = configEntry(configSpec, key);
  if (fromConfig) {
    return auditedChange(db, audit, record, async () => {
      if (given) {
        throw configConflict(
          entry.kind,
          value,
          'this entry comes from LINKAGE_ALLOWLIST and has no note; change the config',
        );
      }
      return {
        params: { created: false, source: 'config' },
        result: { created: false, entry: fromConfig },
      };
    });
  }
  // Taken once, outside the transaction function, as the audit entry's id is.
  const now = Date.now();
  return auditedChange(db, audit, record, async (tx, auditId) => {
    const res = await tx.run(query(cypher, 'linkage/merge-allowlist-entry'), {
      key,
      kind: entry.kind,
      value,
      source,
      note: given && entry.note !== '' ? entry.note : null,
      setNote: given,
      addedBy: actor.name,
      now,
      auditId,
    });
    const row = toPlain(res.records[0]?.toObject()) as Record<string, unknown>;
    // Run again after a commit that went through: that commit created the entry or not,
    // as its audit entry says; this run only finds it.
    const created =
      typeof row.committedParams === 'string'
        ? (JSON.parse(row.committedParams) as { created?: unknown }).created === true
        : row.created === true;
    return {
      params: { created },
      result: {
        created,
        entry: {
          kind: row.kind as IdentifierKind,
          value: String(row.value),
          source: row.source as AllowlistSource,
          note: (row.note as string | null) ?? null,
          addedBy: (row.addedBy as string | null) ?? null,
          addedAt: (row.addedAt as number | null) ?? null,
        },
      },
    };
  });
}

/**
 * Removes a stored entry. A value LINKAGE_ALLOWLIST lists cannot be removed here (409
 * conflict: change the config), even when an entry for it is stored too; an unknown one
 * is 404. Entries stored in an older spelling of the value (`gmail.com.`, which a run
 * reads as gmail.com) go with it, by either spelling. Audited (`allowlist_delete`) either
 * way, a removal with what the entry held (key, source, note, addedBy, addedAt; the others
 * removed with it as `alsoRemoved`).
 */
export async function removeAllowlistEntry(
  db: Database,
  cypher: CypherMap,
  audit: AuditLog,
  actor: Principal,
  configSpec: string,
  kind: IdentifierKind,
  rawValue: string,
): Promise<void> {
  const value = await deletableValue(db, cypher, kind, rawValue);
  const key = entryKey(kind, value);
  const record = {
    actor,
    action: 'allowlist_delete' as const,
    target: key,
    params: { kind, value },
  };
  await auditedChange(db, audit, record, async (tx, auditId) => {
    // checked first: a stored twin (added before config listed the value) stays, hidden
    if (configEntry(configSpec, key)) {
      throw configConflict(
        kind,
        value,
        'this entry comes from LINKAGE_ALLOWLIST; change the config',
      );
    }
    // Every spelling of the value goes: a run reads an older `gmail.com.` as gmail.com.
    const stored = await tx.run(query(cypher, 'linkage/read-allowlist-entries'));
    const spellings = stored.records
      .filter((r) => r.get('kind') === kind && listedForm(kind, String(r.get('value'))) === value)
      .map((r) => entryKey(kind, String(r.get('value'))));
    const keys = [...new Set([key, ...spellings])];
    const res = await tx.run(query(cypher, 'linkage/delete-allowlist-entry'), { keys, auditId });
    const row = res.records[0];
    const removed = toPlain(row?.get('removed')) as Record<string, unknown> | null;
    const alsoRemoved = toPlain(row?.get('alsoRemoved') ?? []) as Record<string, unknown>[];
    if (removed) {
      return {
        result: undefined,
        params: { removed, ...(alsoRemoved.length > 0 ? { alsoRemoved } : {}) },
      };
    }
    // Run again after a commit that went through: that commit removed it, as its audit
    // entry says (this run finds nothing left to remove).
    const committed = row?.get('committedParams');
    if (typeof committed === 'string') {
      const before = JSON.parse(committed) as {
        removed?: Record<string, unknown>;
        alsoRemoved?: Record<string, unknown>[];
      };
      const others = before.alsoRemoved ? { alsoRemoved: before.alsoRemoved } : {};
      return { result: undefined, params: { removed: before.removed ?? null, ...others } };
    }
    throw new AppError('not_found', 'no such allow-list entry', { details: { kind, value } });
  });
}

/**
 * The allow-list a run applied, as its record keeps it: how many entries and the sha256
 * of their sorted `kind:value` keys, so that two runs' lists can be told apart (stored
 * entries come and go between runs; the params keep only config's count).
 */
export function allowlistDigest(entries: readonly Identifier[]): {
  entries: number;
  sha256: string;
} {
  const keys = entries.map((e) => entryKey(e.kind, e.value)).sort();
  return {
    entries: keys.length,
    sha256: createHash('sha256').update(keys.join('\n')).digest('hex'),
  };
}
