import type { Db } from '../db/index.ts';

/**
 * Admin grants made (by `npm run admin -- admin:grant <email>`) before the person ever
 * signed in. The first sign-in with the email takes the grant and becomes an admin; the
 * grant is used up, so a later revoke is not undone by the next sign-in.
 */
export function claimPendingAdmin(db: Db, email: string): boolean {
  return db.prepare('DELETE FROM pending_admins WHERE email = ?').run(email.trim().toLowerCase()).changes > 0;
}
