/**
 * Request and response shapes of the cluster and membership routes, as zod
 * schemas: routes parse input with them, src/platform/openapi.ts documents them.
 */
import { z } from 'zod';
import { accountIdSchema } from '../ingest/event-schema';
import { decimalParam, wholeNumberParam } from '../platform/number-text';

/** Times in these bodies are epoch milliseconds (UTC); run records use ISO-8601. */
export const epochMs = () => z.number().int().describe('epoch milliseconds (UTC)');

export const accountIdParam = z.object({ id: accountIdSchema });

export const clusterIdParam = z.object({ id: z.string().min(1).max(256) });

const bool = z.enum(['true', 'false']).transform((v) => v === 'true');

/** A list's `cursor` parameter: decoded by src/clusters/cursor.ts. */
export const pageCursor = z
  .string()
  .min(1)
  .max(1000)
  .optional()
  .describe('nextCursor of the previous page, with the same filters (400 otherwise)');

export const listClustersQuery = z
  .object({
    flagged: bool.optional(),
    minRisk: decimalParam(z.number().min(0).max(1).default(0)),
    minSize: wholeNumberParam(z.number().int().min(0).default(0)),
    limit: wholeNumberParam(z.number().int().min(1).max(500).default(50)),
    cursor: pageCursor,
  })
  .strict(); // a misspelt filter (?flaged=true) must not silently list everything

export const clusterDetailQuery = z
  .object({
    memberLimit: wholeNumberParam(z.number().int().min(1).max(1000).default(100)),
    memberCursor: z
      .string()
      .min(1)
      .max(1000)
      .optional()
      .describe('nextMemberCursor of the previous page'),
  })
  .strict();

export const reasonSchema = z.object({ code: z.string(), value: z.number() });

export const clusterSummarySchema = z
  .object({
    id: z.string(),
    risk: z.number(),
    flagged: z.boolean(),
    size: z.number().int(),
    reasons: z.array(reasonSchema),
  })
  .meta({ id: 'ClusterSummary' });

export const membershipSchema = z
  .object({
    accountId: z.string(),
    runId: z.string().nullable(),
    cluster: z.union([clusterSummarySchema, z.null()]),
  })
  .meta({ id: 'Membership' });

export const clusterListSchema = z
  .object({
    runId: z.string().nullable(),
    clusters: z.array(
      clusterSummarySchema.extend({
        rank: z
          .number()
          .nullable()
          .describe(
            '1 = highest risk, then larger, then id, across the run: the list is in this order',
          ),
        change: z.string().nullable(),
      }),
    ),
    nextCursor: z.string().nullable(),
  })
  .meta({ id: 'ClusterList' });

export const sharedIdentifierSchema = z.object({
  kind: z.string(),
  value: z.string(),
  members: z.number().int(),
});

export const verdictSchema = z
  .object({
    id: z.string(),
    clusterId: z.string(),
    runId: z.string(),
    verdict: z.enum(['confirmed', 'benign']),
    note: z.string(),
    by: z.string(),
    at: epochMs(),
  })
  .meta({ id: 'Verdict' });

export const clusterDetailSchema = z
  .object({
    id: z.string(),
    runId: z.string(),
    current: z.boolean().describe('false when the current run no longer has this cluster'),
    risk: z.number(),
    flagged: z.boolean(),
    size: z.number().int(),
    rank: z.number().nullable(),
    change: z.string().nullable(),
    from: z.array(z.string()),
    retired: z
      .object({
        runId: z.string().describe('the run that no longer had it'),
        at: epochMs().nullable(),
        change: z.enum(['merged', 'dissolved']),
        into: z
          .array(z.string())
          .describe('clusters of that run its members went to, largest share first'),
      })
      .nullable()
      .describe(
        'how a cluster no longer current ended; null while current, or when the run that retired it holds no record of how',
      ),
    reasons: z.array(reasonSchema),
    signals: z.record(z.string(), z.number()),
    sharedIdentifiers: z.array(sharedIdentifierSchema),
    members: z.array(
      z.object({
        id: z.string(),
        signupAt: epochMs().nullable(),
        firstSeen: epochMs().nullable(),
        lastSeen: epochMs().nullable(),
        requests: z.number().nullable(),
      }),
    ),
    membersPruned: z
      .boolean()
      .describe(
        "true once this version's run has had its memberships pruned (LINKAGE_KEEP_RUNS), or while they are being pruned: members is then empty",
      ),
    nextMemberCursor: z.string().nullable(),
    history: z.object({
      runs: z
        .array(
          z.object({
            runId: z.string(),
            runStartedAt: epochMs().nullable(),
            runFinishedAt: epochMs().nullable(),
            size: z.number().int(),
            risk: z.number(),
            flagged: z.boolean(),
            change: z.string().nullable(),
            from: z.array(z.string()),
          }),
        )
        .describe('the latest published runs that had the cluster, oldest first'),
      earlierRuns: z
        .number()
        .int()
        .describe('runs before those listed (the latest 100 are), not shown here'),
      verdicts: z.array(verdictSchema).describe('the latest verdicts on the cluster, oldest first'),
      earlierVerdicts: z
        .number()
        .int()
        .describe(
          'verdicts before those listed (the latest 100 are): GET /v1/verdicts?clusterId= lists every one',
        ),
    }),
  })
  .meta({ id: 'ClusterDetail' });

export const clusterGraphSchema = z
  .object({
    clusterId: z.string(),
    runId: z.string(),
    capped: z.boolean(),
    nodes: z.array(
      z.object({
        id: z.string(),
        type: z.enum(['account', 'identifier']),
        kind: z.string().optional(),
        label: z.string(),
        /** identifiers only: allow-listed now (listed, in a listed subnet, near a listed prompt) */
        allowlisted: z.boolean().optional(),
      }),
    ),
    edges: z.array(
      z.object({
        source: z.string(),
        target: z.string(),
        count: z.number(),
        lastSeen: epochMs().nullable().describe('when the link was last seen (null: not recorded)'),
        aged: z
          .boolean()
          .nullable()
          .describe(
            "the cluster's run left the link out as older than LINKAGE_LINK_MAX_AGE_DAYS allowed; null when the link was seen again after the run's newest activity, so what the run read of it is gone",
          ),
      }),
    ),
  })
  .meta({ id: 'ClusterGraph' });

export const accountProfileSchema = z
  .object({
    account: z.object({
      id: z.string(),
      firstSeen: epochMs().nullable(),
      lastSeen: epochMs().nullable(),
      signupAt: epochMs().nullable(),
      requests: z.number().nullable(),
      emailDomain: z.string().nullable(),
      org: z.string().nullable(),
    }),
    identifiers: z.array(
      z.object({
        kind: z.string(),
        value: z.string(),
        subnet: z.string().nullable(),
        count: z.number(),
        firstSeen: epochMs().nullable(),
        lastSeen: epochMs().nullable(),
        accounts: z.number().int().describe('accounts holding this value, this one included'),
        aged: z
          .boolean()
          .nullable()
          .describe(
            "the run of `membership` left the link out as older than LINKAGE_LINK_MAX_AGE_DAYS allowed; null when the link was seen again after that run's newest activity",
          ),
      }),
    ),
    identifierCount: z.number().int(),
    identifiersCapped: z.boolean(),
    activity: z.object({
      models: z.array(
        z.object({
          model: z.string(),
          count: z.number(),
          firstUse: epochMs(),
          lastUse: epochMs(),
        }),
      ),
      modelCount: z.number().int(),
      modelsCapped: z.boolean().describe('more models than listed (the 500 busiest are)'),
      capabilities: z.array(z.object({ capability: z.string(), count: z.number() })),
      capabilityCount: z.number().int(),
      capabilitiesCapped: z
        .boolean()
        .describe('more capabilities than listed (the 500 busiest are)'),
    }),
    membership: membershipSchema,
  })
  .meta({ id: 'AccountProfile' });

export type Membership = z.infer<typeof membershipSchema>;
export type ClusterDetail = z.infer<typeof clusterDetailSchema>;
