/**
 * Verdicts: an analyst says a cluster is a confirmed ring or benign. The verdict,
 * its audit entry and (benign, on request) the allow-listing of the cluster's
 * shared values happen in ONE write transaction against the current run's
 * version of the cluster; the next linkage run reads the allow-list. Export and
 * the audit trail are keyset-paged reads.
 */
import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { type CursorScope, decodeCursor, encodeCursor } from '../clusters/cursor';
import { parseJson, type SharedIdentifier } from '../clusters/present';
import type { Context } from '../context';
import { configCovers, listedForm } from '../linkage/allowlist';
import { AuditLog, failedWriteOutcome } from '../platform/audit';
import type { Principal } from '../platform/auth';
import { query } from '../platform/cypher';
import { AppError } from '../platform/errors';
import { int, recordToPlain } from '../platform/neo4j';
import type { verdictRequestSchema } from './schemas';

/**
 * Characters of params one page of the audit trail carries, about: a page ends after the
 * entry that passes it (list-audit-entries.cypher), so a page of 1,000 console queries
 * stays a few MiB rather than ~100 MB.
 */
export const AUDIT_PAGE_MAX_CHARS = 4 * 1024 * 1024;

type VerdictRequest = z.infer<typeof verdictRequestSchema>;

/** What a verdict request did; `replayed`: answered from an earlier request under its key. */
interface Recorded {
  verdict: Record<string, unknown>;
  allowlisted: { kind: string; value: string; created: boolean }[];
  replayed: boolean;
}

/** A keyed verdict's id: the caller's name and key hashed (other callers' keys never meet). */
export function keyedVerdictId(caller: string, key: string): string {
  return `vk-${createHash('sha256').update('verdict\n').update(caller).update('\n').update(key).digest('hex').slice(0, 32)}`;
}

/** The allow-list entries a verdict's audit entry says it asked for (none when it asked for none). */
function allowlistedOf(params: Record<string, unknown>): Recorded['allowlisted'] {
  return Array.isArray(params.allowlisted) ? (params.allowlisted as Recorded['allowlisted']) : [];
}

/** A resend must ask for what the first request under its key did: else 422. */
function assertSameVerdict(
  clusterId: string,
  req: VerdictRequest,
  first: Record<string, unknown>,
  firstParams: Record<string, unknown>,
): void {
  const same =
    first.clusterId === clusterId &&
    first.verdict === req.verdict &&
    first.note === req.note &&
    // a resend may leave the run out; one naming another run reviewed another version
    (req.runId === undefined || req.runId === first.runId) &&
    Boolean(firstParams.allowlistSharedValues) === Boolean(req.allowlistSharedValues);
  if (!same) {
    throw new AppError(
      'idempotency_key_reused',
      'this Idempotency-Key recorded another verdict; use a new key for a new verdict',
      { details: { verdictId: first.id, clusterId: first.clusterId } },
    );
  }
}

export class VerdictService {
  private readonly audit: AuditLog;

  constructor(private readonly ctx: Context) {
    this.audit = new AuditLog(ctx.db, ctx.cypher, ctx.logger);
  }

  /**
   * Records the verdict and its audit entry in one transaction; a verdict refused or
   * failed is audited afterwards with its error code (an analyst trying to allow-list
   * a ring's card is what the trail is for).
   */
  async record(who: Principal, clusterId: string, req: VerdictRequest, key?: string) {
    // One id for the verdict's entry, committed or failed: a commit that went through
    // but whose answer was lost (the driver's retries then spent) keeps its "ok" entry,
    // which the failure's MERGE finds, instead of getting a second one that contradicts it.
    const auditId = randomUUID();
    try {
      return await this.recordVerdict(who, clusterId, req, auditId, key);
    } catch (err) {
      // The verdict may stand after a commit whose answer was lost: not audited as failed
      // then (review, 12-06).
      const { outcome, error } = failedWriteOutcome(err);
      await this.audit.record(
        {
          actor: who,
          action: 'verdict',
          target: clusterId,
          params: {
            ...req,
            // a keyed verdict's id is known before it is written: its resend's entry names it
            ...(key === undefined ? {} : { verdictId: keyedVerdictId(who.name, key) }),
            ...(error ? { error } : {}),
          },
          outcome,
        },
        auditId,
      );
      throw err;
    }
  }

  private async recordVerdict(
    who: Principal,
    clusterId: string,
    req: VerdictRequest,
    auditId: string,
    key: string | undefined,
  ): Promise<Recorded> {
    // Changing the allow-list is an admin's decision, also when a verdict asks for it:
    // one analyst must not be able to clear a ring's card and proxies for the next run.
    if (req.allowlistSharedValues && who.role !== 'admin') {
      throw new AppError('forbidden', 'only an admin may allow-list shared values', {
        details: { allowed: ['admin'], reason: 'allowlist_requires_admin' },
      });
    }
    const q = (key: string) => query(this.ctx.cypher, key);
    // Made once, not per attempt: the driver may run the function again after a commit
    // whose answer was lost, and then it must find this verdict, not add another. From the
    // key when the client sends one: its resend finds the verdict too.
    const id = key === undefined ? randomUUID() : keyedVerdictId(who.name, key);
    const at = Date.now();
    const { committed, ...recorded } = await this.ctx.db.write(async (tx) => {
      // The pointer's lock first (read-current-cluster-for-verdict), held to the commit: a
      // request under the same key that committed while this one waited is seen below, and
      // answered from, rather than recorded twice (review, 12-06).
      const found = await tx.run(q('verdicts/read-current-cluster-for-verdict'), { clusterId });
      const [cluster] = found.records.map(recordToPlain);
      const done = await tx.run(q('verdicts/read-committed-verdict'), { auditId, id });
      const earlier = recordToPlain(done.records[0]!);
      // An earlier run of this function committed: answer what it did. The cluster may have
      // changed run (or gone) since, and checking it again would refuse a verdict that stands.
      if (typeof earlier.params === 'string' && earlier.verdict !== null) {
        return this.committedBefore(who, clusterId, earlier.params, earlier.verdict, auditId);
      }
      // A resend under an Idempotency-Key already used: the first request's answer, unless
      // it asked for something else.
      if (earlier.verdict !== null) {
        const first = earlier.verdict as Record<string, unknown>;
        const firstParams = parseJson<Record<string, unknown>>(earlier.firstParams, {});
        assertSameVerdict(clusterId, req, first, firstParams);
        // Nothing stored; one log line, not "ok": it recorded nothing, but when the first
        // request's own line said outcome_unknown, this one says the verdict stands.
        const replay = this.audit.committedEarlier(
          {
            actor: who,
            action: 'verdict',
            target: clusterId,
            params: { ...req, verdictId: first.id, replayOf: earlier.firstAuditId },
            outcome: 'replayed',
          },
          auditId,
        );
        return {
          verdict: first,
          allowlisted: allowlistedOf(firstParams),
          committed: replay,
          replayed: true,
        };
      }
      if (!cluster) throw new AppError('not_found', `no cluster "${clusterId}" in the current run`);
      if (req.runId !== undefined && req.runId !== cluster.runId) {
        throw new AppError(
          'conflict',
          `cluster "${clusterId}" was reviewed in run ${req.runId}; run ${String(cluster.runId)} is current now: review it again`,
          { details: { clusterId, runId: req.runId, currentRunId: cluster.runId } },
        );
      }
      const created = await tx.run(q('verdicts/create-verdict'), {
        id,
        clusterId,
        runId: cluster.runId,
        verdict: req.verdict,
        note: req.note,
        by: who.name,
        at: int(at),
        auditId,
      });
      const verdict = recordToPlain(created.records[0]!).verdict as Record<string, unknown>;
      let allowlisted: { kind: string; value: string; created: boolean }[] = [];
      if (req.verdict === 'benign' && req.allowlistSharedValues) {
        // Stored in today's spelling, so DELETE /v1/allowlist and config find them; two
        // spellings of one value (an older graph's `gmail.com.` beside gmail.com) are one.
        const byKey = new Map<string, SharedIdentifier>();
        for (const s of parseJson<SharedIdentifier[]>(cluster.sharedIdentifiers, [])) {
          const value = listedForm(s.kind, s.value);
          if (!byKey.has(`${s.kind}:${value}`)) byKey.set(`${s.kind}:${value}`, { ...s, value });
        }
        const shared = [...byKey.values()];
        // Values LINKAGE_ALLOWLIST lists or covers (a listed block) are listed already: no
        // stored twin for them, which would stay behind if the block left the config.
        const covered = configCovers(this.ctx.config.LINKAGE_ALLOWLIST);
        const fromConfig = (s: SharedIdentifier) => covered(s.kind, s.value);
        const merged = await tx.run(q('verdicts/merge-allowlist-entries'), {
          entries: shared
            .filter((s) => !fromConfig(s))
            .map((s) => ({ kind: s.kind, value: s.value })),
          note: `verdict ${String(verdict.id)}: ${req.note}`,
          by: who.name,
          at: int(at),
        });
        const stored = merged.records.map(recordToPlain) as typeof allowlisted;
        // in the cluster's order, config values as not created by this verdict
        allowlisted = shared.map(
          (s) =>
            stored.find((e) => e.kind === s.kind && e.value === s.value) ?? {
              kind: s.kind,
              value: s.value,
              created: false,
            },
        );
      }
      const committed = await this.audit.recordInTx(
        tx,
        {
          actor: who,
          action: 'verdict',
          target: clusterId,
          params: {
            ...req,
            verdictId: verdict.id,
            runId: cluster.runId,
            // the allow-list entries it asked for, `created` when this verdict added them
            ...(req.allowlistSharedValues ? { allowlisted } : {}),
          },
          outcome: 'ok',
        },
        auditId,
      );
      return { verdict, allowlisted, committed, replayed: false };
    });
    this.audit.logCommitted(committed);
    return recorded;
  }

  /** The answer of a verdict an earlier run of the transaction function committed. */
  private committedBefore(
    who: Principal,
    clusterId: string,
    paramsText: string,
    verdict: unknown,
    auditId: string,
  ) {
    const params = JSON.parse(paramsText) as Record<string, unknown>;
    const allowlisted = allowlistedOf(params);
    const committed = this.audit.committedEarlier(
      { actor: who, action: 'verdict', target: clusterId, params, outcome: 'ok' },
      auditId,
    );
    return { verdict: verdict as Record<string, unknown>, allowlisted, committed, replayed: false };
  }

  async list(opts: {
    since?: string;
    verdict?: string;
    clusterId?: string;
    limit: number;
    cursor?: string;
  }) {
    const since = opts.since ? Date.parse(opts.since) : 0;
    const scope: CursorScope = ['verdicts', since, opts.verdict ?? null, opts.clusterId ?? null];
    const after = opts.cursor
      ? decodeCursor(opts.cursor, scope, z.tuple([z.number().int(), z.string()]))
      : null;
    const key = opts.clusterId ? 'verdicts/list-verdicts-of-cluster' : 'verdicts/list-verdicts';
    const rows = await this.read(key, {
      since: int(since),
      verdict: opts.verdict ?? null,
      ...(opts.clusterId ? { clusterId: opts.clusterId } : {}),
      afterAt: after ? int(after[0]) : null,
      afterId: after ? after[1] : null,
      limit: int(opts.limit + 1),
    });
    const page = rows.slice(0, opts.limit).map((r) => r.verdict as Record<string, unknown>);
    const last = page[page.length - 1];
    return {
      verdicts: page,
      nextCursor: rows.length > opts.limit && last ? encodeCursor(scope, [last.at, last.id]) : null,
    };
  }

  async auditTrail(opts: { action?: string; limit: number; cursor?: string }) {
    const scope: CursorScope = ['audit', opts.action ?? null];
    const before = opts.cursor
      ? decodeCursor(opts.cursor, scope, z.tuple([z.number().int(), z.string()]))
      : null;
    const rows = await this.read('verdicts/list-audit-entries', {
      action: opts.action ?? null,
      beforeAt: before ? int(before[0]) : null,
      beforeId: before ? before[1] : null,
      limit: int(opts.limit + 1),
      maxChars: int(AUDIT_PAGE_MAX_CHARS),
    });
    const page = rows.slice(0, opts.limit).map((r) => {
      const e = r.entry as Record<string, unknown>;
      return { ...e, params: parseJson<unknown>(e.params, null) } as Record<string, unknown>;
    });
    const last = page[page.length - 1];
    const more = rows.length > opts.limit || rows[0]?.cutShort === true;
    return {
      entries: page,
      nextCursor: more && last ? encodeCursor(scope, [last.at, last.id]) : null,
    };
  }

  private read(key: string, params: Record<string, unknown>) {
    return this.ctx.db.read(async (tx) => {
      const res = await tx.run(query(this.ctx.cypher, key), params);
      return res.records.map(recordToPlain);
    }, this.ctx.config.QUERY_TIMEOUT_MS);
  }
}
