import { loadConfig } from '../../src/lib/config.ts';
import type { Database } from '../../src/lib/db/database.ts';
import { createGeneration } from '../../src/lib/generation/create.ts';

/**
 * The credit hold's rate on one migrated database (either engine): `count` generations
 * accepted one after another (row + ledger + balance + event in one transaction), next to
 * plain single-row inserts on the same database.
 */
export async function measureHoldRate(db: Database, count: number): Promise<{ holdsPerSecond: number; insertsPerSecond: number }> {
  const { config } = loadConfig({ NODE_ENV: 'test' });
  const now = Date.now();
  const userIds: string[] = [];
  for (let i = 0; i < 100; i++) {
    const id = `usr_hold_${i}`;
    userIds.push(id);
    await db.run(
      `INSERT INTO users (id, email, name, auth_provider, auth_subject, generation_balance, createdAt, updatedAt)
       VALUES (?, ?, 'Bench', 'oidc', ?, 0, ?, ?)`,
      [id, `${id}@example.ru`, id, now, now],
    );
    await db.run(
      `INSERT INTO credit_ledger (userId, delta, kind, reference, balance_after, createdAt) VALUES (?, 1000000, 'admin_adjustment', ?, 1000000, ?)`,
      [id, `seed:${id}`, now],
    );
    await db.run('UPDATE users SET generation_balance = 1000000 WHERE id = ?', [id]);
    await db.run(
      `INSERT INTO uploads (id, userId, path, mime, width, height, bytes, createdAt) VALUES (?, ?, ?, 'image/jpeg', 640, 480, 1000, ?)`,
      [`upl_${id}`, id, `users/${id}/uploads/photo.jpg`, now],
    );
  }
  await db.run('CREATE TABLE bench_rows (userId TEXT NOT NULL, createdAt BIGINT NOT NULL)');
  const body = { prompt: 'Флакон духов на столе', duration: 6, mode: 'prompt' };

  let started = performance.now();
  for (let i = 0; i < count; i++) {
    await createGeneration({ db, config, userId: userIds[i % userIds.length]!, body, idempotencyKey: null, now: now + i });
  }
  const holdsPerSecond = (count / (performance.now() - started)) * 1000;

  started = performance.now();
  for (let i = 0; i < count; i++) await db.run('INSERT INTO bench_rows (userId, createdAt) VALUES (?, ?)', [userIds[i % userIds.length]!, now + i]);
  const insertsPerSecond = (count / (performance.now() - started)) * 1000;
  return { holdsPerSecond, insertsPerSecond };
}
