import { forbidden, unauthorized } from '../errors.ts';
import type { User } from '../auth/users.ts';
import type { Actor } from './audit.ts';

/**
 * Who may use the admin panel: signed-in, enabled users with role admin. APIs answer
 * 401/403 JSON; pages redirect signed-out people to sign-in and show a 403 page to others.
 */

export function requireAdmin(locals: { user: User | null }): User {
  if (!locals.user) throw unauthorized();
  if (locals.user.role !== 'admin' || locals.user.disabled) throw forbidden('ADMIN_ONLY');
  return locals.user;
}

export type PageAccess = 'ok' | 'signed-out' | 'forbidden';

export function adminPageAccess(locals: { user: User | null }): PageAccess {
  if (!locals.user) return 'signed-out';
  return locals.user.role === 'admin' && !locals.user.disabled ? 'ok' : 'forbidden';
}

export function adminActor(user: User): Actor {
  return { kind: 'admin', id: user.id, email: user.email };
}

/** `/login?next=<this page>`: after signing in, the admin comes back here. */
export function signInPath(url: URL): string {
  return `/login?next=${encodeURIComponent(`${url.pathname}${url.search}`)}`;
}
