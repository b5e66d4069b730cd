/**
 * Cluster reads for analysts, always against the current run (the Pointer):
 * an account's membership (from the run's in-memory index, else Neo4j and a
 * cache), cluster lists in rank order, keyset-paged by rank, one cluster's detail with
 * members, shared identifiers, signals and history, and the cluster as a
 * node/edge graph for a graph view.
 */
import { z } from 'zod';
import type { Context } from '../context';
import { type CypherMap, query } from '../platform/cypher';
import { configAllowlistKeys, listedForm } from '../linkage/allowlist';
import { hammingHex } from '../ingest/simhash';
import { agedInRun, runAges } from '../linkage/link-age';
import { SubnetRanges } from '../linkage/subnet-ranges';
import { AppError } from '../platform/errors';
import { type Database, int, recordToPlain } from '../platform/neo4j';
import { type CursorScope, MEMBERS, decodeCursor, encodeCursor } from './cursor';
import { parseJson, type SharedIdentifier, summary } from './present';
import type { ClusterDetail, Membership } from './schemas';
import { analystState, type AnalystState } from './state';

/** A cluster's detail shows its latest runs and verdicts, this many each. */
export const DETAIL_MAX_RUNS = 100;
export const DETAIL_MAX_VERDICTS = 100;

type Row = Record<string, unknown>;

export class ClusterService {
  private readonly db: Database;
  private readonly cypher: CypherMap;
  private readonly state: AnalystState;
  private readonly timeoutMs: number;
  private configAllowlistKeys?: string[];

  constructor(private readonly ctx: Context) {
    this.db = ctx.db;
    this.cypher = ctx.cypher;
    this.state = analystState(ctx);
    this.timeoutMs = ctx.config.QUERY_TIMEOUT_MS;
  }

  currentRunId(): Promise<string | null> {
    return this.state.currentRun.get();
  }

  /**
   * The current run read from Neo4j now, not from this replica's last check; 503 when it
   * cannot be read (the run last read would answer a newer run's cursor with a false 409).
   */
  private recheckedRunId(): Promise<string | null> {
    return this.state.currentRun.getNow();
  }

  /**
   * Which cluster of the current run the account is in; 404 for an unknown account.
   * From the in-memory index of the run when it holds the account, else one read.
   * While the pointer cannot be read (Neo4j unreachable), for the run last read: from
   * memory (index or cache), else that read decides.
   */
  async membership(accountId: string): Promise<Membership> {
    const currentRun = this.state.currentRun;
    const runId = await currentRun.get();
    if (runId !== null) {
      const indexed = this.state.membershipIndex.lookup(runId, accountId);
      if (indexed) return indexed;
    }
    const cached = this.state.memberships.get(accountId);
    if (cached && cached.runId === runId) return cached;
    const [row] = await this.readRows('accounts/read-account-membership', { accountId, runId });
    if (!row) throw new AppError('not_found', `no account "${accountId}"`);
    const cluster = row.cluster as Row | null;
    const membership: Membership = {
      accountId,
      runId,
      cluster: cluster ? summary(cluster) : null,
    };
    // Known accounts only: an unknown one may be ingested any moment.
    const stillCurrent = await currentRun.get().then(
      (id) => id === runId,
      () => false,
    );
    if (stillCurrent) this.state.memberships.set(accountId, membership);
    return membership;
  }

  async list(opts: {
    flagged?: boolean;
    minRisk: number;
    minSize: number;
    limit: number;
    cursor?: string;
  }) {
    // Checked before any read: a cursor that is not one this endpoint issued is 400.
    const scope: CursorScope = ['clusters', opts.flagged ?? null, opts.minRisk, opts.minSize];
    const after = opts.cursor
      ? decodeCursor(opts.cursor, scope, z.tuple([z.string(), z.number().int().min(1)]))
      : null;
    let runId = await this.currentRunId();
    // Behind a load balancer the cursor may come from a replica that saw a newer run first.
    if (after && after[0] !== runId) runId = await this.recheckedRunId();
    if (runId === null) return { runId, clusters: [], nextCursor: null };
    if (after && after[0] !== runId) throw staleCursor(after[0], runId);
    const rows = await this.readRows('clusters/list-clusters', {
      runId,
      flagged: opts.flagged ?? null,
      minRisk: opts.minRisk,
      minSize: int(opts.minSize),
      afterRank: after ? int(after[1]) : null,
      limit: int(opts.limit + 1),
    });
    const page = rows.slice(0, opts.limit).map((r) => {
      const c = r.cluster as Row;
      return {
        ...summary(c),
        rank: (c.rank as number) ?? null,
        change: (c.change as string) ?? null,
      };
    });
    const last = page[page.length - 1];
    // Every published cluster has a rank (publish.ts rankClusters).
    const nextCursor =
      rows.length > opts.limit && last?.rank != null
        ? encodeCursor(scope, [runId, last.rank])
        : null;
    return { runId, clusters: page, nextCursor };
  }

  async detail(
    clusterId: string,
    opts: { memberLimit: number; memberCursor?: string },
  ): Promise<ClusterDetail> {
    // A member cursor names the run and the cluster its page came from: a page of another
    // run's or cluster's members would skip or repeat accounts. Checked before any read,
    // as the list's cursor is.
    const after = opts.memberCursor
      ? decodeCursor(
          opts.memberCursor,
          MEMBERS,
          z.tuple([z.string(), z.string(), z.string()]),
          'memberCursor',
        )
      : null;
    if (after && after[1] !== clusterId) {
      throw new AppError('validation_failed', 'request is invalid', {
        details: [{ path: 'memberCursor', message: 'issued for another cluster' }],
      });
    }
    const { found, current, retired } = await this.versionNow(clusterId, after?.[0]);
    const c = found.cluster as Row;
    const clusterRunId = String(c.runId);
    if (after && after[0] !== clusterRunId) throw staleMemberCursor(after[0], clusterRunId);
    const afterId = after ? after[2] : null;
    const members = await this.readRows('clusters/list-cluster-members', {
      runId: clusterRunId,
      clusterId,
      afterId,
      limit: int(opts.memberLimit + 1),
    });
    // Newest first, bounded: a cluster seen by every nightly run, or judged in a loop,
    // would otherwise make every detail read longer.
    const runs = (
      await this.readRows('clusters/list-cluster-history', {
        clusterId,
        upToRunId: clusterRunId,
        limit: int(DETAIL_MAX_RUNS),
      })
    ).reverse();
    const verdicts = (
      await this.readRows('verdicts/list-cluster-verdicts', {
        clusterId,
        upToRunId: clusterRunId,
        limit: int(DETAIL_MAX_VERDICTS),
      })
    ).reverse();
    // After the members: a run's pruning is marked before its first delete, so a page
    // read while it went on is known to be short, and none is shown.
    const [prunedRow] = await this.readRows('clusters/read-run-members-pruned', {
      runId: clusterRunId,
    });
    const membersPruned = prunedRow?.pruned === true;
    const page = membersPruned
      ? []
      : members.slice(0, opts.memberLimit).map((m) => m.member as Row);
    const lastMember = page[page.length - 1];
    return {
      ...summary(c),
      runId: clusterRunId,
      current,
      rank: (c.rank as number) ?? null,
      change: (c.change as string) ?? null,
      from: parseJson<string[]>(c.from, []),
      retired,
      signals: parseJson<Record<string, number>>(c.signals, {}),
      sharedIdentifiers: parseJson<SharedIdentifier[]>(c.sharedIdentifiers, []),
      members: page.map((m) => ({
        id: String(m.id),
        signupAt: (m.signupAt as number) ?? null,
        firstSeen: (m.firstSeen as number) ?? null,
        lastSeen: (m.lastSeen as number) ?? null,
        requests: (m.requests as number) ?? null,
      })),
      membersPruned,
      nextMemberCursor:
        members.length > opts.memberLimit && lastMember
          ? encodeCursor(MEMBERS, [clusterRunId, clusterId, String(lastMember.id)])
          : null,
      history: {
        runs: runs.map((r) => ({
          runId: String(r.runId),
          runStartedAt: (r.runStartedAt as number) ?? null,
          runFinishedAt: (r.runFinishedAt as number) ?? null,
          size: Number(r.size ?? 0),
          risk: Number(r.risk ?? 0),
          flagged: Boolean(r.flagged),
          change: (r.change as string) ?? null,
          from: parseJson<string[]>(r.from, []),
        })),
        // Counted in the same query but by another read: a run or verdict committed
        // between them could make the count one short.
        earlierRuns: Math.max(0, Number(runs[0]?.total ?? 0) - runs.length),
        verdicts: verdicts.map((v) => v.verdict as ClusterDetail['history']['verdicts'][number]),
        earlierVerdicts: Math.max(0, Number(verdicts[0]?.total ?? 0) - verdicts.length),
      },
    };
  }

  /**
   * The cluster's version as of the current run, and that run. This replica may be behind
   * (a publish within CURRENT_RUN_CHECK_MS, or elsewhere) when a cursor names a run other
   * than the version found, or when the cluster is neither current nor retired (a state
   * the schema has no room for): then the pointer is read again. A retired cluster's
   * cursor names the version found, so its pages read no pointer.
   */
  private async versionNow(clusterId: string, cursorRunId?: string) {
    let runId = await this.currentRunId();
    let version = await this.version(clusterId, runId);
    const foundRunId = String((version.found.cluster as Row).runId);
    if (
      (cursorRunId !== undefined && cursorRunId !== foundRunId) ||
      (!version.current && version.retired === null)
    ) {
      const now = await this.recheckedRunId();
      if (now !== runId) version = await this.version(clusterId, (runId = now));
    }
    return { ...version, runId };
  }

  /** The cluster's version for `runId` (or its latest) and, when not current, its end. */
  private async version(clusterId: string, runId: string | null) {
    const [found] = await this.readRows('clusters/read-cluster', { clusterId, runId });
    if (!found) throw new AppError('not_found', `no cluster "${clusterId}"`);
    const current = found.current === true;
    const lastRunId = String((found.cluster as Row).runId);
    const retired = current ? null : await this.retirement(clusterId, lastRunId);
    return { found, current, retired };
  }

  /** How and by which run a cluster no longer current ended (null: not recorded). */
  private async retirement(
    clusterId: string,
    lastRunId: string,
  ): Promise<ClusterDetail['retired']> {
    const [run] = await this.readRows('clusters/read-cluster-retirement', { runId: lastRunId });
    if (!run) return null;
    const entries = parseJson<{ clusterId: string; change: string; into?: string[] }[]>(
      run.dissolved,
      [],
    );
    const entry = entries.find((e) => e.clusterId === clusterId);
    if (!entry || (entry.change !== 'merged' && entry.change !== 'dissolved')) return null;
    return {
      runId: String(run.runId),
      at: (run.finishedAt as number) ?? null,
      change: entry.change,
      into: entry.into ?? [],
    };
  }

  /** Members and the identifiers linking them, capped; `capped` says something was left out. */
  async graph(clusterId: string) {
    // An unknown cluster is 404 here; one new in a run this replica has not read yet is
    // drawn from that run.
    const { runId } = await this.versionNow(clusterId);
    const maxAccounts = this.ctx.config.CLUSTER_GRAPH_MAX_ACCOUNTS;
    const maxIdentifiers = this.ctx.config.CLUSTER_GRAPH_MAX_IDENTIFIERS;
    const configKeys = (this.configAllowlistKeys ??= [
      ...configAllowlistKeys(this.ctx.config.LINKAGE_ALLOWLIST),
    ]);
    const [row] = await this.readRows('clusters/read-cluster-graph', {
      runId,
      clusterId,
      maxAccounts: int(maxAccounts),
      maxIdentifiers: int(maxIdentifiers),
      allowlistKeys: configKeys,
    });
    if (!row || runId === null) {
      throw new AppError('not_found', `no cluster "${clusterId}" in the current run`);
    }
    const accounts = row.accounts as string[];
    const identifiers = row.identifiers as {
      kind: string;
      value: string;
      links: { account: string; count: number | null; lastSeen: number | null }[];
      allowlisted: boolean;
    }[];
    const ages = runAges(row.run);
    const shown = identifiers.slice(0, maxIdentifiers);
    const listed = (kind: string, stored: unknown) => [
      ...(stored as string[]),
      ...configKeys.filter((k) => k.startsWith(`${kind}:`)).map((k) => k.slice(kind.length + 1)),
    ];
    const nearListed = nearListedPrompt(
      listed('prompt', row.listedPrompts),
      this.ctx.config.LINKAGE_PROMPT_MAX_HAMMING,
    );
    const ranges = new SubnetRanges(listed('subnet', row.listedSubnets));
    const domain = (value: string) => listedForm('email_domain', value);
    const domains = new Set(listed('email_domain', row.listedDomains).map(domain));
    const nodes = [
      ...accounts.map((id) => ({ id: `account:${id}`, type: 'account' as const, label: id })),
      ...shown.map((x) => ({
        id: `${x.kind}:${x.value}`,
        type: 'identifier' as const,
        kind: x.kind,
        label: x.value,
        allowlisted:
          x.allowlisted ||
          (x.kind === 'prompt' && nearListed(x.value)) ||
          (x.kind === 'ip' && ranges.coversIp(x.value)) ||
          (x.kind === 'email_domain' && domains.has(domain(x.value))),
      })),
    ];
    const edges = shown.flatMap((x) =>
      x.links.map((l) => ({
        source: `account:${l.account}`,
        target: `${x.kind}:${x.value}`,
        count: l.count ?? 0,
        lastSeen: typeof l.lastSeen === 'number' ? l.lastSeen : null,
        aged: agedInRun(ages, x.kind, l.lastSeen),
      })),
    );
    const capped = Number(row.size ?? 0) > accounts.length || identifiers.length > maxIdentifiers;
    return { clusterId, runId, capped, nodes, edges };
  }

  /**
   * From the current-run read's bookmarks: on a cluster, never a state older than the run
   * (its clusters, and its stats, written in the swap).
   */
  async readRows(key: string, params: Record<string, unknown>): Promise<Row[]> {
    return this.db.read(
      async (tx) => {
        const res = await tx.run(query(this.cypher, key), params);
        return res.records.map(recordToPlain);
      },
      this.timeoutMs,
      this.state.currentRun.bookmarks(),
    );
  }
}

/**
 * Whether a prompt fingerprint is within maxHamming of a listed one, as a run allows it. A
 * run also allows the rest of its near-duplicate template (a variant of a variant), which
 * one graph does not hold.
 */
function nearListedPrompt(listed: string[], maxHamming: number): (hash: string) => boolean {
  return (hash) => listed.some((l) => hammingHex(l, hash) <= maxHamming);
}

/** A page cursor issued for another run than the one now read: 409, start again. */
function staleCursor(cursorRunId: string, currentRunId: string): AppError {
  return new AppError(
    'conflict',
    'this cursor was issued for another run than the one now current: start again without it',
    { details: { cursorRunId, currentRunId } },
  );
}

/**
 * A member cursor issued for another run's version of the cluster than the one shown:
 * the current run's, or for a cluster no longer current the last run that had it.
 */
function staleMemberCursor(cursorRunId: string, clusterRunId: string): AppError {
  return new AppError(
    'conflict',
    "this member cursor was issued for another run's version of the cluster than the one shown: start again without it",
    { details: { cursorRunId, clusterRunId } },
  );
}
