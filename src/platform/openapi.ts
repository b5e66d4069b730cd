/**
 * The OpenAPI 3.1 document, generated from the same zod schemas the routes parse
 * their path parameters, query strings and bodies with (so those cannot drift from
 * validation; test/unit/platform/openapi.test.ts holds the query parameters to them;
 * a saved investigation's body is checked against its own parameters, which
 * GET /v1/investigations lists), served at
 * /openapi.json, and browsable at /docs (swagger-ui-express). Any API key may read
 * them; OPENAPI_PUBLIC=true serves them without one (app.ts).
 */
import {
  OpenAPIRegistry,
  OpenApiGeneratorV31,
  type ResponseConfig,
  type RouteConfig,
} from '@asteasolutions/zod-to-openapi';
import { Router } from 'express';
import swaggerUi from 'swagger-ui-express';
import { z } from 'zod';
import { ROLES, type Role } from './auth';
import type { Config } from './config';
import { isIngestBatch } from './rate-limit';
import { BODY_METHODS, notFound } from './http';
import {
  accountIdParam,
  accountProfileSchema,
  clusterDetailQuery,
  clusterDetailSchema,
  clusterGraphSchema,
  clusterIdParam,
  clusterListSchema,
  listClustersQuery,
  membershipSchema,
} from '../clusters/schemas';
import { cypherRequestSchema, cypherResultSchema } from '../cypher-console/service';
import { IDEMPOTENCY_KEY, eventSchema } from '../ingest/event-schema';
import { AGEABLE_KINDS } from '../linkage/link-age';
import {
  AGED_LIST_MODES,
  PARAM_TYPE_DESCRIPTIONS,
  PARAM_TYPES,
  investigationNameParam,
} from '../investigations/catalog';
import {
  allowlistEntry,
  entryBody,
  entryKeyInput,
  listQuery,
  runAccepted,
  runBody,
  runIdParam,
  runStatus,
} from '../linkage/schemas';
import {
  auditListSchema,
  listAuditQuery,
  listVerdictsQuery,
  verdictListSchema,
  verdictRequestSchema,
  verdictResponseSchema,
} from '../verdicts/schemas';

const errorSchema = z
  .object({
    error: z.object({
      code: z.string().describe('stable machine-readable code, e.g. validation_failed'),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .meta({ id: 'Error' });

const ERRORS: Record<number, string> = {
  400: 'invalid input (validation_failed, invalid_json, bad_request)',
  401: 'missing or unknown API key (unauthenticated)',
  403: 'role may not do this (forbidden), or a write in a read-only query (write_not_allowed)',
  404: 'not found (not_found)',
  409: 'conflict (conflict, run_in_progress)',
  422: 'the query or batch needs more memory than one Neo4j transaction may hold (query_memory_limit), an Idempotency-Key sent before with another batch or verdict (idempotency_key_reused), or an analyst query returned a value nested too deeply to convert (result_too_deep) or a row too large for the service to read (result_too_large)',
  429: 'more than API_RATE_LIMIT_PER_MINUTE requests in a minute for this API key (too_many_requests; Retry-After says when), or too many analyst queries running at once, in the process or for this key (too_many_queries; details.scope)',
  413: 'too large (payload_too_large)',
  415: 'body not sent as JSON (content-type other than application/json), in a charset outside UTF-8/16/32, or compressed otherwise than gzip, deflate or br (unsupported_media_type)',
  503: 'Neo4j unreachable (database_unavailable) or busy past retries (database_busy); or not_ready: /readyz with Neo4j down, migrations pending or the service stopping, a linkage run asked for, or an investigation or Cypher query sent, while the service shuts down',
  504: 'query ran past its time limit (query_timeout)',
  500: 'a fault of the service (internal): logged with its cause; the answer carries a fixed message',
};

const RATE_LIMITED =
  'more than API_RATE_LIMIT_PER_MINUTE requests in a minute for this API key (too_many_requests; Retry-After says when)';
const RATE_LIMITED_INGEST =
  'a key whose role may not send batches (analyst, metrics) past API_RATE_LIMIT_PER_MINUTE requests in a minute (too_many_requests; Retry-After says when); ingest and admin keys are not counted here';

function json(schema: z.ZodType, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

/** Sent with every 429 and 503 (http.ts; README, "Errors"). */
const retryAfter = z
  .string()
  .regex(/^\d+$/)
  .describe(
    'seconds to wait before sending again: 1 on database_busy and too_many_queries, 5 on database_unavailable and not_ready, the rest of the minute on too_many_requests',
  );

/** Sent with every 401 (http.ts): RFC 9110 has a 401 name the scheme it wants. */
const wwwAuthenticate = z
  .string()
  .describe('Bearer realm="coterie", with error="invalid_token" when the key presented is unknown');

/**
 * Sent with every answer the per-key rate limit counted (express-rate-limit, IETF draft 8),
 * so not when it is off (API_RATE_LIMIT_PER_MINUTE=0, or no keys configured), not on a 401
 * (no key to count), and not on an event batch from an ingest or admin key.
 */
const rateLimitHeaders = {
  'ratelimit-policy': z
    .string()
    .optional()
    .describe(
      'the limit (API_RATE_LIMIT_PER_MINUTE) and its window in seconds, e.g. "1200-in-1min"; q=1200; w=60; pk=:…: (pk: a hash of the key name)',
    ),
  ratelimit: z
    .string()
    .optional()
    .describe('requests left and seconds until the window resets, e.g. "1200-in-1min"; r=0; t=42'),
};

function errorResponse(code: number, description: string) {
  const response = json(errorSchema, description);
  if (code === 429)
    return { ...response, headers: z.object({ 'retry-after': retryAfter, ...rateLimitHeaders }) };
  if (code === 503) return { ...response, headers: z.object({ 'retry-after': retryAfter }) };
  if (code === 401)
    return { ...response, headers: z.object({ 'www-authenticate': wwwAuthenticate }) };
  return response;
}

function errors(...codes: number[]) {
  return Object.fromEntries(codes.map((c) => [c, errorResponse(c, ERRORS[c] ?? 'error')]));
}

const jsonObject = z.record(z.string(), z.unknown());

function idempotencyKeyHeader(description: string) {
  return z.object({
    'idempotency-key': z.string().regex(IDEMPOTENCY_KEY).optional().describe(description),
  });
}

function replayedHeader(what: string) {
  return z.object({
    'idempotent-replayed': z.literal('true').optional().describe(`the answer is a replay: ${what}`),
  });
}

/**
 * An operation behind a key: the roles its route's requireRole lets in, admin always among
 * them, as `x-roles` and in its description (test/integration/auth.test.ts holds each to the
 * route's 403s).
 */
function keyed(role: Role) {
  return { security: [{ bearerAuth: [] }], 'x-roles': [...new Set([role, 'admin'])].sort() };
}

type ConsoleSetting = Config['CYPHER_CONSOLE'];

/** The console's roles follow CYPHER_CONSOLE (cypher-console/routes.ts): none when off. */
function consoleKeyed(setting: ConsoleSetting) {
  const roles = { analyst: ['admin', 'analyst'], admin: ['admin'], off: [] }[setting];
  return { ...keyed('admin'), 'x-roles': roles };
}

function paths(consoleSetting: ConsoleSetting): RouteConfig[] {
  const investigationInfo = z.object({
    name: z.string(),
    description: z.string(),
    params: z.array(
      z.object({
        name: z.string(),
        type: z.enum(PARAM_TYPES).describe(
          Object.entries(PARAM_TYPE_DESCRIPTIONS)
            .map(([t, d]) => `${t}: ${d}`)
            .join('; '),
        ),
        required: z.boolean(),
        default: z.union([z.string(), z.number(), z.boolean()]).optional(),
        min: z.number().optional().describe('lowest value allowed (numbers)'),
        max: z.number().optional().describe('highest value allowed (numbers)'),
      }),
    ),
    checks: z
      .array(z.object({ a: z.string(), op: z.enum(['<', '!=']), b: z.string() }))
      .describe(
        'rules between two parameters, judged when both are given, else 400 validation_failed: `<`, a below b (numbers or date-times); `!=`, two different values',
      ),
    aged: z
      .object({ kind: z.enum([...AGEABLE_KINDS, ...AGED_LIST_MODES]), column: z.string() })
      .optional()
      .describe(
        "rows are one kind of link: each gets `aged`, from the lastSeen of its links in `column` (one, a list, or a list of pairs that must both be kept), by the current run's ages; `each`: `column` lists the row's links as `{kind, lastSeen}`, every one needed (a chain); `shared`: `column` is `{links, agedLinks, seenSince}`, a shared value's links to the cluster's members counted by the run's ages, of which two must be kept",
      ),
  });
  return [
    {
      method: 'get',
      path: '/healthz',
      summary: 'Liveness',
      responses: { 200: json(z.object({ status: z.literal('ok') }), 'up') },
    },
    {
      method: 'get',
      path: '/readyz',
      summary: 'Readiness: Neo4j answers and migrations are applied',
      responses: {
        200: json(
          z.object({
            status: z.literal('ready'),
            neo4j: z.literal('up'),
            migrations: z.literal('applied'),
          }),
          'ready',
        ),
        ...errors(503),
      },
    },
    {
      method: 'get',
      path: '/metrics',
      summary: 'Prometheus metrics (for a scraper key)',
      ...keyed('metrics'),
      responses: { 200: { description: 'text exposition format' }, ...errors(401, 403) },
    },
    {
      method: 'post',
      path: '/v1/events',
      summary: 'Ingest a batch of events (all-or-nothing)',
      ...keyed('ingest'),
      request: {
        headers: idempotencyKeyHeader(
          "the client's name for this batch: a resend under it (same caller, same events) within INGEST_EVENT_ID_RETENTION_DAYS is answered with the first request's counts and writes nothing; another batch under it is 422 idempotency_key_reused",
        ),
        body: {
          required: true,
          content: {
            'application/json': { schema: z.object({ events: z.array(eventSchema) }).strict() },
          },
        },
      },
      responses: {
        200: {
          ...json(
            z.object({
              received: z.number().int(),
              new: z.number().int(),
              duplicates: z.number().int(),
            }),
            'stored, or stored before under the same Idempotency-Key (then the first answer)',
          ),
          headers: replayedHeader('the batch was stored by an earlier request'),
        },
        ...errors(400, 401, 403, 413, 503, 504),
      },
    },
    {
      method: 'post',
      path: '/v1/linkage/runs',
      summary: 'Start a linkage run in the background',
      ...keyed('admin'),
      request: {
        body: {
          content: {
            'application/json': {
              schema: runBody,
            },
          },
        },
      },
      responses: {
        202: {
          ...json(runAccepted, 'started'),
          headers: z.object({
            location: z.string().describe('/v1/linkage/runs/{runId}: where the run is read'),
          }),
        },
        ...errors(400, 401, 403, 409, 503),
      },
    },
    {
      method: 'get',
      path: '/v1/linkage/runs',
      summary: 'Recent linkage runs, newest first, and the current run id',
      ...keyed('analyst'),
      request: { query: listQuery },
      responses: {
        200: json(
          z.object({ currentRunId: z.string().nullable(), runs: z.array(runStatus) }),
          'runs',
        ),
        ...errors(400, 401, 403),
      },
    },
    {
      method: 'get',
      path: '/v1/linkage/runs/{id}',
      summary: 'A linkage run: status, phase, progress, per-phase timings, stats',
      ...keyed('analyst'),
      request: { params: runIdParam },
      responses: { 200: json(runStatus, 'the run'), ...errors(400, 401, 403, 404) },
    },
    {
      method: 'get',
      path: '/v1/allowlist',
      summary: 'Allow-listed shared values (config, API and benign verdicts)',
      ...keyed('analyst'),
      responses: {
        200: json(z.object({ entries: z.array(allowlistEntry) }), 'entries'),
        ...errors(401, 403),
      },
    },
    {
      method: 'post',
      path: '/v1/allowlist',
      summary: 'Allow-list a shared value for the next run',
      ...keyed('admin'),
      request: {
        body: {
          required: true,
          content: {
            'application/json': {
              schema: entryBody,
            },
          },
        },
      },
      responses: {
        200: json(allowlistEntry, 'already listed (stored, or by LINKAGE_ALLOWLIST)'),
        201: json(allowlistEntry, 'added'),
        ...errors(400, 401, 403, 409),
      },
    },
    {
      method: 'delete',
      path: '/v1/allowlist',
      summary: 'Remove a stored allow-list entry (body or query {kind, value})',
      description:
        'The entry as the query string (`kind` and `value` both required there unless the body holds the entry), or as a JSON body of both; any body but none or `{}` is taken as the entry (one without both is 400), and the query must then be empty (400 otherwise). A value LINKAGE_ALLOWLIST lists is 409.',
      ...keyed('admin'),
      request: {
        // Optional here: a body (but `{}`) carries the entry instead (linkage/routes.ts).
        query: entryKeyInput.partial(),
        body: { required: false, content: { 'application/json': { schema: entryKeyInput } } },
      },
      responses: { 204: { description: 'removed' }, ...errors(400, 401, 403, 404, 409) },
    },
    {
      method: 'get',
      path: '/v1/accounts/{id}/cluster',
      summary: "An account's cluster in the current run (cached per run)",
      ...keyed('analyst'),
      request: { params: accountIdParam },
      responses: { 200: json(membershipSchema, 'membership'), ...errors(400, 401, 403, 404, 504) },
    },
    {
      method: 'get',
      path: '/v1/accounts/{id}',
      summary: 'An account: identifiers with counts, activity, cluster',
      ...keyed('analyst'),
      request: { params: accountIdParam },
      responses: { 200: json(accountProfileSchema, 'profile'), ...errors(400, 401, 403, 404, 504) },
    },
    {
      method: 'get',
      path: '/v1/clusters',
      summary:
        'Clusters of the current run in rank order (riskiest first, then larger, then id), keyset-paged',
      ...keyed('analyst'),
      request: { query: listClustersQuery },
      responses: {
        200: json(clusterListSchema, 'a page'),
        ...errors(400, 401, 403, 504),
        409: json(
          errorSchema,
          'conflict: the cursor was issued for another run than the current one (details.cursorRunId, details.currentRunId); start again without it',
        ),
      },
    },
    {
      method: 'get',
      path: '/v1/clusters/{id}',
      summary: 'A cluster: members (paged), shared identifiers, signals, history and verdicts',
      ...keyed('analyst'),
      request: {
        params: clusterIdParam,
        query: clusterDetailQuery,
      },
      responses: {
        200: json(clusterDetailSchema, 'the cluster'),
        ...errors(400, 401, 403, 404, 504),
        409: json(
          errorSchema,
          "conflict: the member cursor was issued for another run's version of the cluster than the one shown (details.cursorRunId, details.clusterRunId: the current run, or for a cluster no longer current the last run that had it); start again without it",
        ),
      },
    },
    {
      method: 'get',
      path: '/v1/clusters/{id}/graph',
      summary: 'A cluster of the current run as nodes and edges (capped) for a graph view',
      description:
        'Current run only: a cluster no longer current, which GET /v1/clusters/{id} still shows from the last run that had it, is 404 not_found here.',
      ...keyed('analyst'),
      request: { params: clusterIdParam },
      responses: { 200: json(clusterGraphSchema, 'the graph'), ...errors(401, 403, 404, 504) },
    },
    {
      method: 'post',
      path: '/v1/clusters/{id}/verdict',
      summary: 'Record a verdict on a cluster of the current run (audited)',
      ...keyed('analyst'),
      request: {
        params: clusterIdParam,
        headers: idempotencyKeyHeader(
          "the client's name for this verdict: a resend under it (same caller, same cluster, verdict, note and allowlistSharedValues, and runId the first's run or absent) is answered with the first request's verdict and records nothing; another verdict under it is 422 idempotency_key_reused",
        ),
        body: { required: true, content: { 'application/json': { schema: verdictRequestSchema } } },
      },
      responses: {
        201: {
          ...json(
            verdictResponseSchema,
            'recorded, or recorded before under the same Idempotency-Key',
          ),
          headers: replayedHeader('the verdict was recorded by an earlier request'),
        },
        ...errors(400, 401, 403, 404, 409, 422),
      },
    },
    {
      method: 'get',
      path: '/v1/verdicts',
      summary: 'Export verdicts, oldest first, keyset-paged',
      ...keyed('analyst'),
      request: { query: listVerdictsQuery },
      responses: { 200: json(verdictListSchema, 'a page'), ...errors(400, 401, 403, 504) },
    },
    {
      method: 'get',
      path: '/v1/audit',
      summary:
        'The audit trail (investigations, ad-hoc Cypher, verdicts, allow-list changes), newest first',
      ...keyed('admin'),
      request: { query: listAuditQuery },
      responses: { 200: json(auditListSchema, 'a page'), ...errors(400, 401, 403, 504) },
    },
    {
      method: 'get',
      path: '/v1/investigations',
      summary: 'Saved investigations with their parameters',
      ...keyed('analyst'),
      responses: {
        200: json(z.object({ investigations: z.array(investigationInfo) }), 'the catalog'),
        ...errors(401, 403),
      },
    },
    {
      method: 'post',
      path: '/v1/investigations/{name}',
      summary: 'Run a saved investigation (read-only, timeout, row cap; audited)',
      description: 'The body holds the parameters GET /v1/investigations lists for that name.',
      ...keyed('analyst'),
      request: {
        params: investigationNameParam,
        body: { content: { 'application/json': { schema: jsonObject } } },
      },
      responses: {
        200: json(
          cypherResultSchema.extend({
            name: z.string(),
            params: jsonObject,
            agesRunId: z
              .string()
              .nullable()
              .optional()
              .describe(
                'an investigation with `aged` (GET /v1/investigations): the run whose ages marked its rows, null before the first run',
              ),
          }),
          'rows',
        ),
        ...errors(400, 401, 403, 404, 429, 504),
      },
    },
    {
      method: 'post',
      path: '/v1/cypher',
      summary:
        'Ad-hoc read-only Cypher with parameters (timeout, row cap; audited); CYPHER_CONSOLE=admin leaves it to admins, =off to no one (403)',
      ...consoleKeyed(consoleSetting),
      request: {
        body: { required: true, content: { 'application/json': { schema: cypherRequestSchema } } },
      },
      responses: {
        200: json(cypherResultSchema, 'rows'),
        ...errors(400, 401, 403, 429, 504),
      },
    },
  ];
}

/** Routes behind a key that answer without Neo4j: metrics, and the catalog (held in memory). */
const WITHOUT_NEO4J = new Set(['get /metrics', 'get /v1/investigations']);

/**
 * The failures every route of a kind can answer with, so each operation need not list
 * them: on every method whose body the service parses (BODY_METHODS, the list jsonBody
 * itself uses, whether or not the route documents a body), a body that is not JSON, too
 * large, not sent as JSON or in another charset (400, 413, 415); a path parameter with
 * broken percent-encoding (400); on every route that reads or writes Neo4j (all behind a
 * key but WITHOUT_NEO4J), Neo4j down or busy (503) and a transaction past Neo4j's memory
 * limit (422: every transaction goes through toAppError in neo4j.ts); on every route behind
 * a key but the ingest of events, its requests per minute past API_RATE_LIMIT_PER_MINUTE
 * (429). What only some routes answer (504, too_many_queries) they list themselves.
 */
function withCommonErrors(route: RouteConfig): RouteConfig {
  const codes: number[] = [];
  if (BODY_METHODS.includes(route.method.toUpperCase())) codes.push(400, 413, 415);
  if (route.path.includes('{')) codes.push(400);
  if (route.path.startsWith('/v1/')) codes.push(400); // a query parameter it does not take
  if (route.security && !WITHOUT_NEO4J.has(`${route.method} ${route.path}`)) codes.push(422, 503);
  codes.push(500); // any route, for a fault of ours (review, 12-06: none listed it)
  const missing = codes.filter((c) => !(c in route.responses));
  const responses = { ...route.responses, ...errors(...new Set(missing)) };
  // API_RATE_LIMIT_PER_MINUTE on every route behind a key; on the ingest of events only
  // for keys whose role may not send batches (rate-limit.ts); a route that answers
  // too_many_queries too lists 429 itself (ERRORS' text names both).
  const ingest = isIngestBatch({ method: route.method.toUpperCase(), path: route.path });
  if (route.security && !(429 in responses))
    responses[429] = errorResponse(429, ingest ? RATE_LIMITED_INGEST : RATE_LIMITED);
  // The limit's headers come with every answer it counted, not only its 429s (review,
  // 12-07); not a 401's: the limit counts only requests with a known key.
  if (route.security) {
    for (const [code, response] of Object.entries(responses))
      if (code !== '401') responses[code] = withRateLimitHeaders(response as ResponseConfig);
  }
  return { ...route, responses };
}

function withRateLimitHeaders(response: ResponseConfig): ResponseConfig {
  const { headers } = response;
  if (headers === undefined) return { ...response, headers: z.object(rateLimitHeaders) };
  if (headers instanceof z.ZodObject)
    return { ...response, headers: headers.extend(rateLimitHeaders) };
  return response;
}

/** The roles an operation lets in, said in its description too (most readers look there). */
function withRoles(route: RouteConfig): RouteConfig {
  const roles = (route as { 'x-roles'?: string[] })['x-roles'];
  if (!roles) return route;
  const said =
    roles.length > 0
      ? `Roles: ${roles.join(', ')} (any other key is 403 forbidden).`
      : 'Roles: none, turned off on this service (every key is 403 forbidden).';
  return { ...route, description: route.description ? `${route.description} ${said}` : said };
}

type Document = ReturnType<OpenApiGeneratorV31['generateDocument']>;

const cached = new Map<ConsoleSetting, Document>();

/** The document, as a service with that CYPHER_CONSOLE answers (the console's roles). */
export function openApiDocument(consoleSetting: ConsoleSetting = 'analyst'): Document {
  const known = cached.get(consoleSetting);
  if (known) return known;
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: `API key; roles ${ROLES.join(', ')}`,
  });
  for (const route of paths(consoleSetting))
    registry.registerPath(withCommonErrors(withRoles(route)));
  const doc = new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Coterie',
      version: '0.1.0',
      description:
        'Graph-based account linkage. Every error is {"error": {"code", "message", "details"?}}.',
    },
  });
  cached.set(consoleSetting, doc);
  return doc;
}

export function openApiRoutes(consoleSetting: ConsoleSetting): Router {
  const router = Router();
  router.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument(consoleSetting));
  });
  // swagger-ui-express serves its files to any method; other methods go on to the
  // app's own handling (body parsing, 404), as on every other path (review, 12-07).
  router.use('/docs', (req, res, next) =>
    req.method === 'GET' || req.method === 'HEAD' ? next() : next('router'),
  );
  // swagger-ui-express answers any …/package.json with a plain-text 404 of its own;
  // ours has the one error shape (review, 12-06).
  router.use('/docs', (req, res, next) =>
    req.path.endsWith('/package.json') ? notFound(req, res, next) : next(),
  );
  router.use('/docs', swaggerUi.serve);
  router.get(
    '/docs',
    swaggerUi.setup(openApiDocument(consoleSetting), { customSiteTitle: 'Coterie API' }),
  );
  return router;
}
