import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { checkSessionToken, peekSessionUser, SESSION_COOKIE } from '../auth/sessions.ts';
import { sessionCookieOptions } from '../auth/cookies.ts';
import type { User } from '../auth/users.ts';
import { LOCALE_COOKIE, resolveLocale, t, type Locale } from '../i18n/index.ts';

/**
 * The kit of the node routes (src/server/*-route.ts) and the edge checks that run before
 * Astro: cookies, locale, session and answers, in the same shapes as the Astro API routes
 * (JSON, `no-store`, the standard error body in the visitor's language). Security headers
 * are already on `res`: the server sets them before any route runs.
 */

export interface NodeSessionDeps {
  db: Database;
  clock: Clock;
  config: Pick<Config, 'session' | 'isProduction'>;
}

/** The value of one cookie from a raw `Cookie` header, or null. */
export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    const raw = part.slice(eq + 1).trim();
    try {
      return decodeURIComponent(raw);
    } catch {
      return null;
    }
  }
  return null;
}

/** A raw request's headers as a `Headers` (repeated headers joined), for the rules shared with Astro routes. */
export function nodeRequestHeaders(req: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  return headers;
}

export function localeOfNodeRequest(req: IncomingMessage): Locale {
  return resolveLocale(readCookie(req.headers.cookie, LOCALE_COOKIE) ?? undefined, req.headers['accept-language'] ?? null);
}

/**
 * The signed-in user of a request served by a node route (those run before Astro, so
 * without its middleware). Same check as the middleware (`checkSessionToken`): expired
 * sessions and disabled users answer null, and a session extended here gets its cookie sent
 * again — otherwise the browser would drop the cookie at its old expiry while the session
 * lives on.
 */
export async function nodeSessionUser(deps: NodeSessionDeps, req: IncomingMessage, res: ServerResponse): Promise<User | null> {
  const token = readCookie(req.headers.cookie, SESSION_COOKIE);
  if (!token) return null;
  const check = await checkSessionToken(deps.db, token, { now: deps.clock.now(), ttlMs: deps.config.session.ttlMs });
  if (check.kind !== 'valid') return null;
  if (check.extended) res.appendHeader('Set-Cookie', sessionCookieHeader(deps, token));
  return check.user;
}

/**
 * The user of a request whose session needs no change (see `peekSessionUser`), for a hot
 * path that leaves every other case to the Astro route. NEVER writes.
 */
export async function peekNodeSessionUser(deps: NodeSessionDeps, req: IncomingMessage): Promise<User | null> {
  const token = readCookie(req.headers.cookie, SESSION_COOKIE);
  return token ? peekSessionUser(deps.db, token, { now: deps.clock.now(), ttlMs: deps.config.session.ttlMs }) : null;
}

function sessionCookieHeader(deps: NodeSessionDeps, token: string): string {
  const options = sessionCookieOptions(deps.config);
  const parts = [`${SESSION_COOKIE}=${encodeURIComponent(token)}`, `Path=${options.path}`, `Max-Age=${options.maxAge}`, 'HttpOnly', 'SameSite=Lax'];
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(text)),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/** `{success: false, code, error}` with the message for `errors.<code>`. */
export function sendNodeError(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  code: string,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, { success: false, code, error: t(localeOfNodeRequest(req), `errors.${code}`) }, headers);
}

/** A plain-text answer, for callers that are not browsers (a Prometheus scraper). */
export function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...headers });
  res.end(text);
}
