/**
 * The linkage routes' request and response shapes, one zod schema each: the routes
 * validate with them and the OpenAPI document is generated from them.
 */
import { z } from 'zod';
import { wholeNumberParam } from '../platform/number-text';
import { unicodeText } from '../platform/unicode-text';
import { MAX_SEED } from './rng';
import { IDENTIFIER_KINDS, type ClusterChange, type IdentifierKind } from './types';

export const runBody = z
  .object({
    seed: z.number().int().min(0).max(MAX_SEED).optional(),
  })
  .strict();
export const runIdParam = z.object({ id: z.string().min(1).max(256) });
export const listQuery = z
  .object({ limit: wholeNumberParam(z.number().int().min(1).max(200).default(20)) })
  .strict();
const kind = z.enum(IDENTIFIER_KINDS as unknown as [IdentifierKind, ...IdentifierKind[]]);
export const entryBody = z
  .object({
    kind,
    value: unicodeText(1, 256).describe(
      'stored in the form ingest stores the kind; a subnet is a /24 or /48, or a wider block (IPv4 /8 to /24, IPv6 /16 to /48) covering every /24 or /48 and address in it',
    ),
    note: unicodeText(0, 1000)
      .optional()
      .describe(
        'for a value already listed: replaces its note ("" clears it); absent keeps the note',
      ),
  })
  .strict();
export const entryKeyInput = z.object({ kind, value: unicodeText(1, 256) }).strict();

const jsonObject = z.record(z.string(), z.unknown());

export const runAccepted = z.object({ runId: z.string() }).meta({ id: 'RunAccepted' });
const int = () => z.number().int();
const numbersByName = z.record(z.string(), z.number());
const CHANGES = [
  'new',
  'stable',
  'grew',
  'shrank',
  'merged',
  'split',
  'dissolved',
] as const satisfies readonly ClusterChange[];

/** What a run was started with. Keys added since a run was recorded are absent from it. */
const runParams = z.object({
  seed: int().optional(),
  resolution: z.number().optional(),
  minClusterSize: int().optional(),
  riskThreshold: z.number().optional(),
  keepRuns: int().optional(),
  leaseTtlMs: int().optional(),
  extractPageSize: int().optional(),
  extractPacked: z.boolean().optional(),
  publishBatchSize: int().optional(),
  configAllowlistEntries: int().optional(),
  promptMaxHamming: int().optional(),
  weights: jsonObject.optional().describe('the LINKAGE_WEIGHTS overrides in force'),
  linkMaxAgeDays: z
    .record(z.string(), z.number())
    .optional()
    .describe(
      "LINKAGE_LINK_MAX_AGE_DAYS: per kind, how many days before the graph's newest activity a link was last seen and still linked",
    ),
});

/** Stored when the run ends, not as phases finish: see `stats` in runStatus. */
const runStats = z.object({
  accounts: int().optional(),
  identifiers: int().optional().describe('distinct shared values read'),
  links: int().optional().describe('account–identifier links read'),
  edges: int().optional().describe('weighted account–account edges built'),
  communities: int().optional(),
  clusters: int().optional(),
  flagged: int().optional(),
  modularity: z.number().optional(),
  accountsInClusters: int().optional(),
  previousClusters: int().optional(),
  retired: int().optional().describe('previous clusters whose id this run did not keep'),
  retiredAs: z
    .object({ merged: int().optional(), dissolved: int().optional() })
    .optional()
    .describe("previous clusters retired, by how: merged into this run's clusters, or dissolved"),
  changes: z
    .object(Object.fromEntries(CHANGES.map((c) => [c, int().optional()])))
    .optional()
    .describe("this run's clusters per change against the previous run"),
  extract: numbersByName.optional().describe("extract's own counts and timings"),
  allowlist: z
    .object({ entries: int(), sha256: z.string() })
    .optional()
    .describe(
      'the allow-list the run applied (config and stored entries): how many, and the sha256 of their sorted kind:value keys joined by newlines',
    ),
  build: numbersByName.optional(),
  detect: numbersByName.optional(),
  publish: z
    .object({
      clustersWritten: int(),
      membershipsWritten: int(),
      batches: int(),
      clustersMs: int().optional().describe('wall time of the cluster writes'),
      membershipsMs: int().optional().describe('wall time of the membership writes'),
      prune: numbersByName
        .nullable()
        .optional()
        .describe(
          "old runs' memberships and failed runs' clusters removed by the housekeeping that follows the swap; absent until it has finished (or when its outcome could not be recorded), null when it failed (the run still succeeded; the next run retries it)",
        ),
      pruneMs: int().optional().describe('wall time of that housekeeping; absent with `prune`'),
    })
    .optional(),
});

const retiredCluster = z.object({
  clusterId: z.string(),
  change: z.enum(['merged', 'dissolved']),
  from: z.array(z.string()),
  into: z
    .array(z.string())
    .describe('clusters of this run whose `from` names it, largest overlap first'),
});

export const runStatus = z
  .object({
    id: z.string(),
    status: z.enum(['running', 'succeeded', 'failed']),
    phase: z.string().nullable(),
    progress: z.number(),
    trigger: z.enum(['cron', 'cli', 'api']),
    seed: int(),
    current: z.boolean(),
    startedAt: z.string().nullable().describe('ISO-8601'),
    finishedAt: z.string().nullable().describe('ISO-8601'),
    params: runParams,
    timings: numbersByName.describe('milliseconds per phase, and total'),
    stats: runStats.describe(
      '{} while the run is running (progress updates write only phase, progress and timings); whole once it succeeded; a failed run keeps at most the counts up to publish (when it failed while publishing; {} when it failed before)',
    ),
    dissolved: z.array(retiredCluster).describe('previous clusters this run retired'),
    error: z
      .string()
      .nullable()
      .describe(
        'why a failed run failed, as every reader sees it: `<phase>: <code>` (e.g. `publish: database_unavailable`, `extract: internal_error`), or a fixed text (`lease expired`, `service shutting down`, …)',
      ),
    errorDetail: z
      .string()
      .nullable()
      .describe(
        'the whole error text (it can quote Neo4j messages); shown to admin keys only, null for others',
      ),
  })
  .meta({ id: 'LinkageRun' });
export const allowlistEntry = z
  .object({
    kind,
    value: z.string(),
    source: z.enum(['config', 'api', 'verdict']),
    note: z.string().nullable(),
    addedBy: z.string().nullable(),
    addedAt: z.string().nullable().describe('ISO-8601'),
    deletable: z.boolean(),
  })
  .meta({ id: 'AllowlistEntry' });
