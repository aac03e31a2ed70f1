import type { IncomingMessage } from 'node:http';
import type { AppContext } from '../context.ts';
import { SESSION_COOKIE, validateSessionToken } from '../auth/sessions.ts';
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
 * users answer null.
 */
export function authenticateNodeRequest(ctx: AppContext, req: IncomingMessage): User | null {
  const token = readCookie(req.headers.cookie, SESSION_COOKIE);
  if (!token) return null;
  const validated = validateSessionToken(ctx.db, token, { now: ctx.clock.now(), ttlMs: ctx.config.session.ttlMs });
  return validated?.user ?? null;
}
