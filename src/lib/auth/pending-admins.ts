import type { Database } from '../db/database.ts';

/**
 * Admin grants made (by `npm run admin -- admin:grant <email>`) before the person ever
 * signed in. The first sign-in with the email takes the grant and becomes an admin; the
 * grant is used up, so a later revoke is not undone by the next sign-in.
 */
export async function claimPendingAdmin(db: Database, email: string): Promise<boolean> {
  return (await db.run('DELETE FROM pending_admins WHERE email = ?', [email.trim().toLowerCase()])).changes > 0;
}
