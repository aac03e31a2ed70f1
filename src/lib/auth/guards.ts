import { forbidden, unauthorized } from '../errors.ts';
import type { User } from './users.ts';

/**
 * One-line guards for routes. APIs: `const user = requireUser(Astro.locals)` inside
 * `apiRoute(...)` — a signed-out caller gets 401 JSON. Pages:
 * `if (!Astro.locals.user) return Astro.redirect(signInPath(Astro.url))`.
 */

export function requireUser(locals: { user: User | null }): User {
  if (!locals.user) throw unauthorized();
  return locals.user;
}

export function requireAdmin(locals: { user: User | null }): User {
  const user = requireUser(locals);
  if (user.role !== 'admin') throw forbidden('ADMIN_ONLY');
  return user;
}

/** `/login?next=<this page>`: after signing in, the person comes back here. */
export function signInPath(url: URL): string {
  return `/login?next=${encodeURIComponent(`${url.pathname}${url.search}`)}`;
}
