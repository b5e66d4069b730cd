/**
 * Bearer-key authentication with roles. Keys are configured as SHA-256 hashes
 * (API_KEYS="name:role:hexsha256,…"), never in clear; a presented key is hashed
 * and compared in constant time. `admin` may do everything, `analyst` reads and
 * investigates, `ingest` only writes events, `metrics` only reads /metrics (a scraper's
 * key, which then cannot read any account). With no keys configured, auth is
 * off and main.ts refuses to bind anything but loopback.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Request, RequestHandler } from 'express';
import { ConfigError } from './config';
import { AppError } from './errors';

export const ROLES = ['ingest', 'analyst', 'admin', 'metrics'] as const;
export type Role = (typeof ROLES)[number];

export interface ApiKey {
  name: string;
  role: Role;
  hash: Buffer;
}

export interface Principal {
  name: string;
  role: Role;
}

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

/** The 401 message for a key presented but not configured (http.ts: error="invalid_token"). */
export const UNKNOWN_KEY = 'unknown API key';

export function parseApiKeys(spec: string): ApiKey[] {
  const keys = parseEntries(spec);
  // Refused, not read as "no keys" (auth off): a list of only commas is a broken one.
  if (keys.length === 0 && spec.trim() !== '') {
    throw new ConfigError(
      'API_KEYS has no entries (only commas and spaces); leave it empty to turn auth off',
    );
  }
  // One key under two entries would take the role of whichever comes last.
  for (let i = 0; i < keys.length; i++) {
    const same = keys.findIndex((k, j) => j > i && k.hash.equals(keys[i]!.hash));
    if (same >= 0) {
      throw new ConfigError(
        `API_KEYS entries "${keys[i]!.name}" and "${keys[same]!.name}" hold the same key: one key, one role`,
      );
    }
  }
  return keys;
}

function parseEntries(spec: string): ApiKey[] {
  return spec
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((entry, i) => {
      const [name, role, hash, ...rest] = entry.split(':');
      if (!name || !role || !hash || rest.length > 0) {
        // By position: an entry of the wrong shape may be a key pasted in clear.
        throw new ConfigError(`API_KEYS entry ${i + 1} must be name:role:sha256hex`);
      }
      if (!(ROLES as readonly string[]).includes(role)) {
        // Not the field itself: with the fields swapped it is the key's hash, or the key.
        throw new ConfigError(
          `API_KEYS entry "${name}" has an unknown role (${role.length} characters; one of ${ROLES.join(', ')})`,
        );
      }
      if (!/^[0-9a-f]{64}$/i.test(hash)) {
        throw new ConfigError(
          `API_KEYS entry "${name}": the key's SHA-256 must be 64 hex characters (got ${hash.length} characters)`,
        );
      }
      return { name, role: role as Role, hash: Buffer.from(hash, 'hex') };
    });
}

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Names of this machine's loopback interface: where main.ts listens with no keys. */
export const LOOPBACK = ['127.0.0.1', '::1', 'localhost'] as const;
/** The same names as a Host header carries them (an IPv6 address in brackets). */
const LOOPBACK_HOSTS = new Set<string>(LOOPBACK.map((h) => (h.includes(':') ? `[${h}]` : h)));

/** The host name of a Host header, without its port, lower case. */
function hostName(header: string | undefined): string {
  const h = (header ?? '').trim().toLowerCase();
  return h.startsWith('[') ? h.slice(0, h.indexOf(']') + 1) : (h.split(':')[0] ?? '');
}

/** Headers a proxy adds to what it forwards (RFC 7239, the de-facto X-Forwarded-*, Via). */
const PROXY_HEADERS = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-real-ip', 'via'];

/**
 * A browser's request from a page of another origin: Sec-Fetch-Site says so, or an Origin
 * other than the one the request is addressed to (browsers without Sec-Fetch-*).
 */
function fromOtherOrigin(headers: IncomingHttpHeaders): boolean {
  const site = headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return true;
  const origin = headers.origin;
  if (origin === undefined) return false;
  try {
    return new URL(origin).host !== (headers.host ?? '').toLowerCase();
  } catch {
    return true; // "null" (a sandboxed page, a file) or garbage
  }
}

/**
 * Attaches req.principal; with no keys configured everyone is a local admin, but only
 * in requests addressed to loopback by name (a web page that rebinds its own domain to
 * 127.0.0.1, DNS rebinding, reaches the port, yet its requests carry its domain as Host),
 * not forwarded by a proxy, and not sent by a browser from another origin.
 */
export function authenticate(keys: readonly ApiKey[]): RequestHandler {
  return (req, _res, next) => {
    if (keys.length === 0) {
      if (!LOOPBACK_HOSTS.has(hostName(req.headers.host))) {
        return next(
          new AppError(
            'forbidden',
            'with no API keys configured, only requests addressed to localhost, 127.0.0.1 or [::1] are served',
          ),
        );
      }
      // A reverse proxy on this machine rewrites Host to loopback, but most say they
      // forwarded the request: its clients are not local.
      if (PROXY_HEADERS.some((h) => req.headers[h] !== undefined)) {
        return next(
          new AppError(
            'forbidden',
            'with no API keys configured, requests forwarded by a proxy are not served',
          ),
        );
      }
      // A page on another site (or another port of this host) cannot read the answers,
      // but could still start work: a cross-site form or beacon (CSRF).
      if (fromOtherOrigin(req.headers)) {
        return next(
          new AppError(
            'forbidden',
            'with no API keys configured, requests a browser sends from another site are not served',
          ),
        );
      }
      req.principal = { name: 'local', role: 'admin' };
      return next();
    }
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match)
      return next(
        new AppError('unauthenticated', 'missing or malformed Authorization: Bearer <key>'),
      );
    const presented = createHash('sha256')
      .update(match[1] as string)
      .digest();
    let found: ApiKey | undefined;
    // Compare against every key so timing does not reveal which one matched.
    for (const key of keys) if (timingSafeEqual(presented, key.hash)) found = key;
    if (!found) return next(new AppError('unauthenticated', UNKNOWN_KEY));
    req.principal = { name: found.name, role: found.role };
    next();
  };
}

/** Whether the request was made with an admin key (or by the local admin, auth off). */
export function isAdmin(req: Request): boolean {
  return req.principal?.role === 'admin';
}

export function requireRole(...allowed: Role[]): RequestHandler {
  return (req, _res, next) => {
    const role = req.principal?.role;
    if (role === undefined) return next(new AppError('unauthenticated', 'not authenticated'));
    if (role === 'admin' || allowed.includes(role)) return next();
    const may = [...new Set<Role>([...allowed, 'admin'])].sort();
    next(
      new AppError('forbidden', `role "${role}" may not do this`, { details: { allowed: may } }),
    );
  };
}
