/**
 * Saved investigations: each cypher/investigations/<name>.cypher opens with a
 * header naming what it does and its parameters,
 *
 *   // @description Accounts sharing a payment method with an account.
 *   // @param accountId string
 *   // @param limit int 1..10000 = 100   (a range: numbers only, either end may be left open)
 *   // @param org string?            (optional, null when absent)
 *   // @check from < to              (two numbers or datetimes: else 400, naming the second)
 *   // @check fromId != toId         (two parameters of one type: equal values are 400)
 *   // @aged ip linkLastSeen         (the column holds the lastSeen of the row's IP links,
 *                                    one, a list, or a list of groups: the answer adds
 *                                    `aged`, judged by the current run, link-age.ts rowAgedInRun)
 *
 * which this module parses (pure, no I/O) into a catalog entry with a zod schema
 * for the request body and a converter to driver parameters. Types: string, int,
 * float, boolean, datetime (ISO-8601 in, epoch milliseconds to Cypher, as the
 * graph stores times), and values the graph holds, accepted only in a form that can
 * match and put in the form the graph stores them (see PARAM_TYPE_DESCRIPTIONS):
 * account, cluster, model, fingerprint, ip. An `ip` reaches Cypher as a map
 * {address, subnet}: the address (null when a subnet was given) and the CIDR of
 * its subnet, so a query can find the subnet of an address the graph never saw.
 */
import { z } from 'zod';
import { clusterIdParam } from '../clusters/schemas';
import { accountIdSchema, modelSchema } from '../ingest/event-schema';
import { canonicalFingerprint } from '../ingest/simhash';
import { canonicalIp, canonicalSubnet, subnetHint, subnetOf } from '../ingest/subnet';
import { AGEABLE_KINDS, type AgeableKind, sharedAgeParams } from '../linkage/link-age';
import type { CypherMap } from '../platform/cypher';
import { int } from '../platform/neo4j';

/** POST /v1/investigations/{name}: the route parses its path with it, the OpenAPI document shows it. */
export const investigationNameParam = z.object({ name: z.string().regex(/^[a-z0-9-]{1,100}$/) });

/** What each parameter type accepts (the OpenAPI document gives it for the catalog's `type`). */
export const PARAM_TYPE_DESCRIPTIONS = {
  string: 'text, up to 10,000 characters',
  int: 'a whole number',
  float: 'a number',
  boolean: 'true or false',
  datetime: 'ISO-8601 date-time with seconds and an offset, Z or ±hh:mm',
  account:
    'an account id as ingest accepts it: 1-128 characters of [A-Za-z0-9_.:@-], not "." or ".."',
  cluster: 'a cluster id: 1-256 characters',
  model: 'a model name as ingest accepts it: 1-128 characters',
  fingerprint: 'a 64-bit SimHash: 16 hex digits, either case (lower case is canonical)',
  ip: 'an IPv4 or IPv6 address, or its subnet in CIDR form (a.b.c.0/24, x:y:z::/48); canonicalised as ingest stores it',
} as const;
export type ParamType = keyof typeof PARAM_TYPE_DESCRIPTIONS;
export const PARAM_TYPES = Object.keys(PARAM_TYPE_DESCRIPTIONS) as [ParamType, ...ParamType[]];

export interface ParamSpec {
  name: string;
  type: ParamType;
  required: boolean;
  default?: string | number | boolean;
  /** bounds of an int or float, inclusive */
  min?: number;
  max?: number;
}

export interface Investigation {
  name: string;
  description: string;
  params: ParamSpec[];
  /** `@check a < b` (first below second) or `@check a != b` (different values) */
  checks: Check[];
  /**
   * `@aged kind column`: each row gets `aged` from `column`, its `kind` links' lastSeen;
   * `@aged each column`: `column` lists the row's links as `{kind, lastSeen}`, all needed;
   * `@aged shared column`: `column` is `{links, agedLinks, seenSince}`, a shared value's
   * links to cluster members counted by the run's ages (`$agedAsOf`, `$agedNotBefore`), two
   * of them needed
   */
  aged?: { kind: AgeableKind | AgedListMode; column: string };
  text: string;
  schema: z.ZodType<Record<string, unknown>>;
}

const NUMBER = String.raw`-?\d+(?:\.\d+)?`;
const PARAM_LINE = new RegExp(
  String.raw`^\/\/\s*@param\s+([A-Za-z_][A-Za-z0-9_]*)\s+([a-z]+)(\?)?` +
    String.raw`(?:\s+(${NUMBER})?\.\.(${NUMBER})?)?(?:\s*=\s*(.+?))?\s*$`,
);
const DESCRIPTION_LINE = /^\/\/\s*@description\s+(.+?)\s*$/;
export type Check = [a: string, b: string, op: '<' | '!='];

/** `@aged` modes that name no one kind: the column says it per link or counts (link-age.ts). */
export const AGED_LIST_MODES = ['each', 'shared'] as const;
export type AgedListMode = (typeof AGED_LIST_MODES)[number];

/** Parameters the service gives an `@aged shared` query: sharedAgeParams' own names. */
const SHARED_AGE_PARAMS = Object.keys(sharedAgeParams(null, null));

const CHECK_LINE =
  /^\/\/\s*@check\s+([A-Za-z_][A-Za-z0-9_]*)\s*(<|!=)\s*([A-Za-z_][A-Za-z0-9_]*)\s*$/;
const ORDERED: readonly ParamType[] = ['int', 'float', 'datetime'];
const AGED_LINE = /^\/\/\s*@aged\s+([a-z_]+)\s+([A-Za-z_][A-Za-z0-9_]*)\s*$/;

/** Parses one file's header; throws on anything malformed so start-up fails loudly. */
export function parseInvestigation(name: string, text: string): Investigation {
  let description: string | undefined;
  const params: ParamSpec[] = [];
  const checks: Check[] = [];
  let aged: Investigation['aged'];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (!line.startsWith('//')) break;
    const desc = DESCRIPTION_LINE.exec(line);
    if (desc) {
      description = desc[1];
      continue;
    }
    if (/^\/\/\s*@check\b/.test(line)) {
      const m = CHECK_LINE.exec(line);
      if (!m) throw new Error(`investigation ${name}: malformed @check line "${line}"`);
      checks.push([m[1] as string, m[3] as string, m[2] as Check[2]]);
      continue;
    }
    if (/^\/\/\s*@aged\b/.test(line)) {
      aged = parseAged(name, line, aged);
      continue;
    }
    if (/^\/\/\s*@param\b/.test(line)) {
      const m = PARAM_LINE.exec(line);
      if (!m) throw new Error(`investigation ${name}: malformed @param line "${line}"`);
      const [, pname, type, optional, min, max, def] = m as unknown as [
        string,
        string,
        string,
        string?,
        string?,
        string?,
        string?,
      ];
      if (!(PARAM_TYPES as readonly string[]).includes(type)) {
        throw new Error(`investigation ${name}: @param ${pname} has unknown type "${type}"`);
      }
      if (params.some((p) => p.name === pname)) {
        throw new Error(`investigation ${name}: @param ${pname} declared twice`);
      }
      const spec: ParamSpec = { name: pname, type: type as ParamType, required: !optional };
      if (min !== undefined || max !== undefined) {
        if (type !== 'int' && type !== 'float')
          throw new Error(`investigation ${name}: @param ${pname} has a range but is a ${type}`);
        if (min !== undefined) spec.min = Number(min);
        if (max !== undefined) spec.max = Number(max);
      }
      if (def !== undefined) {
        spec.default = parseDefault(name, spec, def);
        spec.required = false;
      }
      params.push(spec);
    }
  }
  if (!description) throw new Error(`investigation ${name}: missing // @description`);
  const declared = new Set(params.map((p) => p.name));
  // `@aged shared`: the service passes the run's ages itself (sharedAgeParams).
  const supplied = aged?.kind === 'shared' ? SHARED_AGE_PARAMS : [];
  for (const p of supplied) {
    if (declared.has(p))
      throw new Error(`investigation ${name}: @param ${p} is the service's own (@aged shared)`);
  }
  for (const used of usedParameters(text)) {
    if (!declared.has(used) && !supplied.includes(used))
      throw new Error(`investigation ${name}: $${used} has no @param`);
  }
  for (const [a, b, op] of checks) {
    const specs = [a, b].map((p) => params.find((x) => x.name === p));
    for (const [i, p] of [a, b].entries()) {
      const spec = specs[i];
      if (op === '<' && (!spec || !ORDERED.includes(spec.type)))
        throw new Error(
          `investigation ${name}: @check ${a} < ${b}: ${p} is no int, float or datetime @param`,
        );
      if (op === '!=' && !spec)
        throw new Error(`investigation ${name}: @check ${a} != ${b}: ${p} is no @param`);
    }
    if (op === '!=' && specs[0]?.type !== specs[1]?.type)
      throw new Error(`investigation ${name}: @check ${a} != ${b}: not of one type`);
  }
  if (aged && !new RegExp(String.raw`\bAS\s+${aged.column}\b`).test(text))
    throw new Error(
      `investigation ${name}: @aged column ${aged.column} is not returned (AS ${aged.column})`,
    );
  if (aged && /\bAS\s+aged\b/.test(text))
    throw new Error(`investigation ${name}: @aged adds the column aged, which it returns already`);
  const schema = schemaFor(params, checks);
  return { name, description, params, checks, ...(aged ? { aged } : {}), text, schema };
}

function parseAged(name: string, line: string, before: Investigation['aged']) {
  const m = AGED_LINE.exec(line);
  if (!m) throw new Error(`investigation ${name}: malformed @aged line "${line}"`);
  const [, kind, column] = m as unknown as [string, string, string];
  if (before) throw new Error(`investigation ${name}: @aged declared twice`);
  if (!([...AGEABLE_KINDS, ...AGED_LIST_MODES] as string[]).includes(kind))
    throw new Error(
      `investigation ${name}: @aged kind "${kind}" is none of ` +
        [...AGEABLE_KINDS, ...AGED_LIST_MODES].join(', '),
    );
  return { kind: kind as AgeableKind | AgedListMode, column };
}

/**
 * `$name` parameters a query uses (comments, string literals and quoted names ignored). One
 * left-to-right pass: a `//` inside `'http://x'` starts no comment, nor a quote inside one.
 */
export function usedParameters(text: string): Set<string> {
  const code = text.replace(
    /'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|`[^`]*`|\/\/[^\n]*|\/\*[\s\S]*?\*\//g,
    (m) => (m.startsWith('/') ? ' ' : "''"),
  );
  return new Set([...code.matchAll(/\$([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1] as string));
}

function parseDefault(name: string, spec: ParamSpec, raw: string): string | number | boolean {
  const value = raw.replace(/^(['"])(.*)\1$/, '$2');
  const parsed = specSchema(spec).safeParse(
    spec.type === 'int' || spec.type === 'float'
      ? Number(value)
      : spec.type === 'boolean'
        ? value === 'true'
          ? true
          : value === 'false'
            ? false
            : value
        : value,
  );
  if (!parsed.success) {
    throw new Error(
      `investigation ${name}: default of @param ${spec.name} is not a ${spec.type} in its range`,
    );
  }
  return spec.type === 'datetime' ? value : (parsed.data as string | number | boolean);
}

/** A string put in canonical form by `canonical`, or refused with `message` (for it). */
function canonicalString(
  canonical: (v: string) => string | null,
  message: string | ((v: string) => string),
): z.ZodType {
  return z
    .string()
    .trim()
    .max(256)
    .transform((v, ctx) => {
      const c = canonical(v);
      if (c !== null) return c;
      ctx.addIssue({ code: 'custom', message: typeof message === 'string' ? message : message(v) });
      return z.NEVER;
    });
}

/** An address in the form ingest stores it, or a /24 or /48 subnet as ingest derives it. */
export function canonicalIpOrSubnet(value: string): string | null {
  if (value.includes('/')) return canonicalSubnet(value);
  try {
    return canonicalIp(value);
  } catch {
    return null;
  }
}

function valueSchema(type: ParamType): z.ZodType {
  switch (type) {
    case 'string':
      return z.string().max(10_000);
    case 'int':
      return z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);
    case 'float':
      return z.number().finite();
    case 'boolean':
      return z.boolean();
    case 'datetime':
      return z.iso.datetime({ offset: true }).transform((v) => Date.parse(v));
    case 'account':
      return accountIdSchema;
    case 'cluster':
      return clusterIdParam.shape.id;
    case 'model':
      return modelSchema;
    case 'fingerprint':
      return canonicalString(canonicalFingerprint, 'must be a 64-bit SimHash: 16 hex digits');
    case 'ip':
      return canonicalString(
        canonicalIpOrSubnet,
        (v) =>
          subnetHint(v) ??
          'must be an IPv4 or IPv6 address, or an IPv4 /24 or IPv6 /48 in CIDR form (e.g. 10.1.2.0/24)',
      );
  }
}

/** A parameter's value schema with its range, if it has one. */
function specSchema(spec: ParamSpec): z.ZodType {
  let s = valueSchema(spec.type);
  if (s instanceof z.ZodNumber) {
    if (spec.min !== undefined) s = s.min(spec.min);
    if (spec.max !== undefined) s = (s as z.ZodNumber).max(spec.max);
  }
  return s;
}

/**
 * The request body schema: declared parameters only, defaults applied, optionals null;
 * each `@check` holds where both of its values are given.
 */
export function schemaFor(
  params: readonly ParamSpec[],
  checks: readonly Check[] = [],
): z.ZodType<Record<string, unknown>> {
  const shape: Record<string, z.ZodType> = {};
  for (const p of params) {
    let s = specSchema(p);
    if (p.default !== undefined) {
      const def = p.type === 'datetime' ? Date.parse(String(p.default)) : p.default;
      s = s.optional().transform((v) => v ?? def);
    } else if (!p.required)
      s = s
        .nullable()
        .optional()
        .transform((v) => v ?? null);
    shape[p.name] = s;
  }
  return z
    .object(shape)
    .strict()
    .superRefine((values, ctx) => {
      for (const [a, b, op] of checks) {
        const x = values[a];
        const y = values[b];
        if (op === '<' && typeof x === 'number' && typeof y === 'number' && !(x < y)) {
          // parsed to whole milliseconds: 00:00:00.0001Z is not after 00:00:00Z (review, 12-07)
          const ms = params.find((p) => p.name === b)?.type === 'datetime';
          const message = `must be after ${a}${ms ? ' by 1 ms at least (times are read to the millisecond)' : ''}`;
          ctx.addIssue({ code: 'custom', path: [b], message });
        }
        // compared as parsed: canonical forms, so two spellings of one value are equal
        if (op === '!=' && x !== null && x !== undefined && x === y)
          ctx.addIssue({ code: 'custom', path: [b], message: `must differ from ${a}` });
      }
    }) as unknown as z.ZodType<Record<string, unknown>>;
}

/**
 * Parsed values as driver parameters: whole numbers go as Neo4j integers, an `ip` as
 * {address, subnet} (address null for a subnet).
 */
export function toDriverParams(
  inv: Investigation,
  values: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of inv.params) {
    const v = values[p.name];
    if ((p.type === 'int' || p.type === 'datetime') && typeof v === 'number') out[p.name] = int(v);
    else if (p.type === 'ip' && typeof v === 'string') out[p.name] = ipParam(v);
    else out[p.name] = v;
  }
  return out;
}

function ipParam(canonical: string): { address: string | null; subnet: string } {
  return canonical.includes('/')
    ? { address: null, subnet: canonical }
    : { address: canonical, subnet: subnetOf(canonical) };
}

/** Dummy values of the declared types (for EXPLAIN in tests). */
export function exampleParams(inv: Investigation): Record<string, unknown> {
  const example: Record<ParamType, unknown> = {
    string: 'x',
    int: int(1),
    float: 0.5,
    boolean: true,
    datetime: int(0),
    account: 'x',
    cluster: 'x',
    model: 'x',
    fingerprint: '0000000000000000',
    ip: ipParam('192.0.2.1'),
  };
  return {
    ...Object.fromEntries(inv.params.map((p) => [p.name, example[p.type]])),
    ...(inv.aged?.kind === 'shared' ? sharedAgeParams(null, null) : {}),
  };
}

/** Every investigation in the Cypher map, by name. */
export function loadInvestigations(cypher: CypherMap): Map<string, Investigation> {
  const out = new Map<string, Investigation>();
  for (const [key, text] of cypher) {
    if (!key.startsWith('investigations/')) continue;
    const name = key.slice('investigations/'.length);
    out.set(name, parseInvestigation(name, text));
  }
  return out;
}
