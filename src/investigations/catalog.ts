/**
 * Saved investigations: each cypher/investigations/<name>.cypher opens with a
 * header naming what it does and its parameters,
 *
 *   // @description Accounts sharing a payment method with an account.
 *   // @param accountId string
 *   // @param limit int 1..10000 = 100   (a range: numbers only, either end may be left open)
 *   // @param org string?            (optional, null when absent)
 *
 * which this module parses (pure, no I/O) into a catalog entry with a zod schema
 * for the request body and a converter to driver parameters. Types: string, int,
 * float, boolean, datetime (ISO-8601 in, epoch milliseconds to Cypher, as the
 * graph stores times).
 */
import { z } from 'zod';
import type { CypherMap } from '../platform/cypher';
import { int } from '../platform/neo4j';

export const PARAM_TYPES = ['string', 'int', 'float', 'boolean', 'datetime'] as const;
export type ParamType = (typeof PARAM_TYPES)[number];

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
  text: string;
  schema: z.ZodType<Record<string, unknown>>;
}

const NUMBER = String.raw`-?\d+(?:\.\d+)?`;
const PARAM_LINE = new RegExp(
  String.raw`^\/\/\s*@param\s+([A-Za-z_][A-Za-z0-9_]*)\s+([a-z]+)(\?)?` +
    String.raw`(?:\s+(${NUMBER})?\.\.(${NUMBER})?)?(?:\s*=\s*(.+?))?\s*$`,
);
const DESCRIPTION_LINE = /^\/\/\s*@description\s+(.+?)\s*$/;

/** Parses one file's header; throws on anything malformed so start-up fails loudly. */
export function parseInvestigation(name: string, text: string): Investigation {
  let description: string | undefined;
  const params: ParamSpec[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (!line.startsWith('//')) break;
    const desc = DESCRIPTION_LINE.exec(line);
    if (desc) {
      description = desc[1];
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
  for (const used of usedParameters(text)) {
    if (!declared.has(used)) throw new Error(`investigation ${name}: $${used} has no @param`);
  }
  return { name, description, params, text, schema: schemaFor(params) };
}

/** `$name` parameters a query uses (comments and string literals ignored). */
export function usedParameters(text: string): Set<string> {
  const code = text
    .replace(/\/\/[^\n]*/g, '')
    .replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/g, "''");
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

/** The request body schema: declared parameters only, defaults applied, optionals null. */
export function schemaFor(params: readonly ParamSpec[]): z.ZodType<Record<string, unknown>> {
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
  return z.object(shape).strict() as unknown as z.ZodType<Record<string, unknown>>;
}

/** Parsed values as driver parameters: whole numbers go as Neo4j integers. */
export function toDriverParams(
  inv: Investigation,
  values: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of inv.params) {
    const v = values[p.name];
    out[p.name] = (p.type === 'int' || p.type === 'datetime') && typeof v === 'number' ? int(v) : v;
  }
  return out;
}

/** Dummy values of the declared types (for EXPLAIN in tests). */
export function exampleParams(inv: Investigation): Record<string, unknown> {
  const example: Record<ParamType, unknown> = {
    string: 'x',
    int: int(1),
    float: 0.5,
    boolean: true,
    datetime: int(0),
  };
  return Object.fromEntries(inv.params.map((p) => [p.name, example[p.type]]));
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
