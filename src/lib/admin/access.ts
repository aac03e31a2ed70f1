import type { User } from '../auth/users.ts';
import type { Actor } from './audit.ts';

/**
 * Who may use the admin panel: signed-in users with role admin (a disabled user has no
 * session at all). APIs use the shared `requireAdmin` (401/403 JSON); for pages the
 * middleware sends signed-out people to sign-in and shows others the 403 page.
 */

export type PageAccess = 'ok' | 'signed-out' | 'forbidden';

export function adminPageAccess(locals: { user: User | null }): PageAccess {
  if (!locals.user) return 'signed-out';
  return locals.user.role === 'admin' && !locals.user.disabled ? 'ok' : 'forbidden';
}

export function adminActor(user: User): Actor {
  return { kind: 'admin', id: user.id, email: user.email };
}
