/**
 * Linkage over HTTP: trigger a run and read run records, and manage the
 * allow-list of known-benign shared values.
 *
 *   POST   /v1/linkage/runs        admin    {seed?} → 202 {runId}; 409 run_in_progress {runId}
 *   GET    /v1/linkage/runs        analyst  ?limit= → {currentRunId, runs: [newest first]}
 *   GET    /v1/linkage/runs/:id    analyst  → the run record
 *   GET    /v1/allowlist           analyst  → {entries: [{kind, value, source, note, …}]}
 *   POST   /v1/allowlist           admin    {kind, value, note?} → 201 (200 if it existed)
 *   DELETE /v1/allowlist           admin    {kind, value} (body or query) → 204
 *
 * Allow-list changes are audited (actions allowlist_add, allowlist_delete).
 *
 * Routes stay thin: runs go through runner.ts, entries through allowlist.ts.
 */
import { Router } from 'express';
import type { Context } from '../context';
import { AuditLog } from '../platform/audit';
import { isAdmin, requireRole } from '../platform/auth';
import { query } from '../platform/cypher';
import { AppError } from '../platform/errors';
import { noQuery, parseInput, parseQuery } from '../platform/http';
import { int, toPlain } from '../platform/neo4j';
import { addAllowlistEntry, listAllowlist, removeAllowlistEntry } from './allowlist';
import { startLinkage } from './runner';
import { entryBody, entryKeyInput, listQuery, runBody, runIdParam } from './schemas';

const JSON_FIELDS = ['params', 'stats', 'timings', 'dissolved'] as const;
const TIME_FIELDS = ['startedAt', 'finishedAt', 'updatedAt', 'membershipsPrunedAt'] as const;

/** Shown for a run failed before failures kept a summary beside their whole text. */
const LEGACY_ERROR = 'failed; the error is shown to admins (errorDetail)';

/**
 * A (:LinkageRun) node as the API shows it: JSON fields parsed, times as ISO-8601. The
 * whole error text only with `detail` (admins): it can quote Neo4j's messages.
 */
export function runView(props: Record<string, unknown>, current: boolean, detail: boolean) {
  const run: Record<string, unknown> = { ...props };
  for (const f of JSON_FIELDS) {
    const v = run[f];
    if (typeof v === 'string') {
      try {
        run[f] = JSON.parse(v) as unknown;
      } catch {
        // leave as stored
      }
    }
  }
  for (const f of TIME_FIELDS) {
    const v = run[f];
    if (typeof v === 'number') run[f] = new Date(v).toISOString();
  }
  return {
    id: run.id,
    status: run.status,
    phase: run.phase,
    progress: run.progress,
    trigger: run.trigger,
    seed: run.seed,
    current,
    startedAt: run.startedAt ?? null,
    finishedAt: run.finishedAt ?? null,
    params: run.params ?? {},
    timings: run.timings ?? {},
    stats: run.stats ?? {},
    dissolved: run.dissolved ?? [],
    error: run.errorSummary ?? (run.error == null ? null : LEGACY_ERROR),
    errorDetail: detail ? (run.error ?? null) : null,
  };
}

export function linkageRoutes(ctx: Context): Router {
  const router = Router();
  const audit = new AuditLog(ctx.db, ctx.cypher, ctx.logger);

  router.post('/v1/linkage/runs', requireRole('admin'), async (req, res) => {
    parseInput(noQuery, req.query);
    const body = parseInput(runBody, req.body ?? {});
    const { runId, done } = await startLinkage(ctx, { trigger: 'api', seed: body.seed });
    void done; // runs on in the background; its outcome is on the run record
    res.status(202).location(`/v1/linkage/runs/${runId}`).json({ runId });
  });

  router.get('/v1/linkage/runs', requireRole('analyst'), async (req, res) => {
    const { limit } = parseQuery(listQuery, req.query);
    const result = await ctx.db.read(async (tx) => {
      const runs = await tx.run(query(ctx.cypher, 'linkage/list-runs'), { limit: int(limit) });
      const pointer = await tx.run(query(ctx.cypher, 'linkage/read-current-pointer'));
      return {
        currentRunId: (pointer.records[0]?.get('runId') as string | null) ?? null,
        runs: runs.records.map((r) =>
          runView(
            toPlain(r.get('run')) as Record<string, unknown>,
            r.get('current') === true,
            isAdmin(req),
          ),
        ),
      };
    });
    res.json(result);
  });

  router.get('/v1/linkage/runs/:id', requireRole('analyst'), async (req, res) => {
    const { id } = parseInput(runIdParam, req.params);
    parseInput(noQuery, req.query);
    const run = await ctx.db.read(async (tx) => {
      const r = await tx.run(query(ctx.cypher, 'linkage/read-run'), { id });
      const record = r.records[0];
      if (!record) return null;
      return runView(
        toPlain(record.get('run')) as Record<string, unknown>,
        record.get('current') === true,
        isAdmin(req),
      );
    });
    if (!run) throw new AppError('not_found', 'no such linkage run', { details: { runId: id } });
    res.json(run);
  });

  router.get('/v1/allowlist', requireRole('analyst'), async (req, res) => {
    parseInput(noQuery, req.query);
    const entries = await listAllowlist(ctx.db, ctx.cypher, ctx.config.LINKAGE_ALLOWLIST);
    res.json({
      entries: entries.map((e) => ({
        ...e,
        addedAt: e.addedAt === null ? null : new Date(e.addedAt).toISOString(),
        deletable: e.source !== 'config',
      })),
    });
  });

  router.post('/v1/allowlist', requireRole('admin'), async (req, res) => {
    parseInput(noQuery, req.query);
    const body = parseInput(entryBody, req.body);
    const { entry, created } = await addAllowlistEntry(
      ctx.db,
      ctx.cypher,
      audit,
      req.principal!,
      ctx.config.LINKAGE_ALLOWLIST,
      body,
    );
    res.status(created ? 201 : 200).json({
      ...entry,
      addedAt: entry.addedAt === null ? null : new Date(entry.addedAt).toISOString(),
      deletable: entry.source !== 'config',
    });
  });

  router.delete('/v1/allowlist', requireRole('admin'), async (req, res) => {
    // Any body but none (or `{}`) names the entry, and is checked as one: one without `kind`
    // (`Kind`, a stray key) was ignored, and the query's entry deleted (review, 12-07).
    const body: unknown = req.body;
    const inBody =
      body !== undefined &&
      body !== null &&
      !(typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0);
    // With the entry in the body the query takes nothing (a stray or second entry there is 400).
    if (inBody) parseInput(noQuery, req.query);
    const input = inBody
      ? parseInput(entryKeyInput, req.body)
      : parseQuery(entryKeyInput, req.query);
    await removeAllowlistEntry(
      ctx.db,
      ctx.cypher,
      audit,
      req.principal!,
      ctx.config.LINKAGE_ALLOWLIST,
      input.kind,
      input.value,
    );
    res.status(204).end();
  });

  return router;
}
