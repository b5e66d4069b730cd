/**
 * Runs saved investigations: look the name up, validate the body against the
 * schema its header declares, run it in a read transaction with the timeout
 * and row cap, audit who ran it with which parameters. An investigation with `@aged`
 * has each row marked with whether the current run left its links out as aged.
 */
import { ClusterService } from '../clusters/service';
import type { Context } from '../context';
import type { AnalystQueries } from '../cypher-console/run';
import { auditedQuery, withStats } from '../cypher-console/service';
import { AuditLog } from '../platform/audit';
import type { Principal } from '../platform/auth';
import { AppError, isAppError } from '../platform/errors';
import { parseInput } from '../platform/http';
import type { Logger } from '../platform/logger';
import {
  chainAgedInRun,
  rowAgedInRun,
  runAges,
  sharedAgedInRun,
  sharedAgeParams,
  type RunAges,
} from '../linkage/link-age';
import { type Investigation, loadInvestigations, toDriverParams } from './catalog';

/** The most `aged` adds to a row's JSON; the byte cap counts it (QUERY_MAX_BYTES). */
const AGED_BYTES = Buffer.byteLength(',"aged":false');

export class Investigations {
  readonly catalog: Map<string, Investigation>;
  private readonly audit: AuditLog;
  private readonly logger: Logger;
  private readonly clusters: ClusterService;

  constructor(
    ctx: Context,
    private readonly queries: AnalystQueries,
  ) {
    this.catalog = loadInvestigations(ctx.cypher);
    this.audit = new AuditLog(ctx.db, ctx.cypher, ctx.logger);
    this.logger = ctx.logger;
    this.clusters = new ClusterService(ctx);
  }

  list() {
    return [...this.catalog.values()]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((inv) => ({
        name: inv.name,
        description: inv.description,
        params: inv.params.map((p) => ({
          name: p.name,
          type: p.type,
          required: p.required,
          ...(p.default !== undefined ? { default: p.default } : {}),
          ...(p.min !== undefined ? { min: p.min } : {}),
          ...(p.max !== undefined ? { max: p.max } : {}),
        })),
        checks: inv.checks.map(([a, b, op]) => ({ a, op, b })),
        ...(inv.aged ? { aged: inv.aged } : {}),
      }));
  }

  async run(who: Principal, name: string, body: unknown) {
    const inv = this.catalog.get(name);
    if (!inv) throw new AppError('not_found', `no investigation "${name}"`);
    const values = parseInput(inv.schema, body ?? {});
    // Read before the query: a failure here is the service's, with nothing run or audited.
    const judge = inv.aged ? await this.currentAges() : undefined;
    const entry = { actor: who, action: 'investigation' as const, target: name, params: values };
    try {
      return await auditedQuery(this.audit, this.queries, entry, async (slot) => {
        const started = performance.now(); // the query's time, not the audit write's
        const result = await slot.run({
          text: inv.text,
          params: {
            ...toDriverParams(inv, values),
            // A shared value's links are counted by the run's ages in the query itself.
            ...(inv.aged?.kind === 'shared'
              ? sharedAgeParams(judge?.runId ?? null, judge?.ages ?? null)
              : {}),
          },
          checkPlan: false,
          ...(inv.aged ? { rowExtraBytes: AGED_BYTES } : {}),
        });
        const answer = { name, params: values, ...withStats(result, started) };
        if (!inv.aged || !judge) return answer;
        const { kind, column } = inv.aged;
        return {
          ...answer,
          columns: [...answer.columns, 'aged'],
          rows: answer.rows.map((r) => ({
            ...r,
            aged:
              kind === 'each'
                ? chainAgedInRun(judge.ages, r[column])
                : kind === 'shared'
                  ? sharedAgedInRun(r[column])
                  : rowAgedInRun(judge.ages, kind, r[column]),
          })),
          agesRunId: judge.runId,
        };
      });
    } catch (err) {
      // The answer carries a fixed text (mapQueryError); Neo4j's own is for the log.
      if (isAppError(err) && err.code === 'bad_request' && err.cause !== undefined) {
        this.logger.warn({ err: err.cause, investigation: name }, 'Neo4j refused an investigation');
      }
      throw err;
    }
  }

  /** The current run and the ages it applied (null: no run yet, or it aged nothing). */
  private async currentAges(): Promise<{ runId: string | null; ages: RunAges | null }> {
    const runId = await this.clusters.currentRunId();
    if (runId === null) return { runId, ages: null };
    const [row] = await this.clusters.readRows('linkage/read-run-ages', { runId });
    return { runId, ages: runAges(row?.run) };
  }
}
