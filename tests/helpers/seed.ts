import { upsertUserFromIdentity } from '../../src/lib/auth/users.ts';
import type { Db } from '../../src/lib/db/index.ts';

/** A signed-up user (trial credits) whose current photo is an upload row. */
export function seedUser(db: Db, options: { now: number; email?: string; trialCredits?: number }): string {
  const email = options.email ?? 'seller@example.ru';
  const userId = upsertUserFromIdentity(
    db,
    { provider: 'oidc', subject: `sub-${email}`, email, name: 'Q', picture: null },
    { now: options.now, trialCredits: options.trialCredits ?? 3, adminEmails: [] },
  ).user.id;
  db.prepare(
    `INSERT INTO uploads (id, userId, path, mime, width, height, bytes, createdAt) VALUES (?, ?, ?, 'image/jpeg', 640, 480, 10, ?)`,
  ).run(`upl_${userId}`, userId, `users/${userId}/uploads/upl_1.jpg`, options.now);
  return userId;
}
