import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppContext } from '../context.ts';
import { SESSION_COOKIE, validateSessionToken } from '../auth/sessions.ts';
import { sessionCookieOptions } from '../auth/cookies.ts';
import type { User } from '../auth/users.ts';

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

/**
 * The signed-in user of a request served by a node route (those run before Astro, so
 * without its middleware). Same rules as the middleware: expired sessions and disabled
 * users answer null, and a session extended here gets its cookie sent again — otherwise
 * the browser would drop the cookie at its old expiry while the session lives on.
 */
export function authenticateNodeRequest(ctx: AppContext, req: IncomingMessage, res: ServerResponse): User | null {
  const token = readCookie(req.headers.cookie, SESSION_COOKIE);
  if (!token) return null;
  const validated = validateSessionToken(ctx.db, token, { now: ctx.clock.now(), ttlMs: ctx.config.session.ttlMs });
  if (validated?.extended) res.appendHeader('Set-Cookie', sessionCookieHeader(ctx, token));
  return validated?.user ?? null;
}

function sessionCookieHeader(ctx: AppContext, token: string): string {
  const options = sessionCookieOptions(ctx.config);
  const parts = [`${SESSION_COOKIE}=${encodeURIComponent(token)}`, `Path=${options.path}`, `Max-Age=${options.maxAge}`, 'HttpOnly', 'SameSite=Lax'];
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}
