import type { Database } from '../../src/lib/db/database.ts';
import { seedUser } from './fixtures.ts';

/** A signed-up user (trial credits) whose current photo is an upload row; returns the user id. */
export async function seedUserWithPhoto(db: Database, options: { now: number; email?: string; trialCredits?: number }): Promise<string> {
  const userId = (await seedUser(db, options)).id;
  await db.run(
    `INSERT INTO uploads (id, userId, path, mime, width, height, bytes, createdAt) VALUES (?, ?, ?, 'image/jpeg', 640, 480, 10, ?)`,
    [`upl_${userId}`, userId, `users/${userId}/uploads/upl_1.jpg`, options.now],
  );
  return userId;
}
