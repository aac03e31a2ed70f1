import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/lib/config.ts';
import type { Database } from '../../src/lib/db/database.ts';
import { migratePostgres } from '../../src/lib/db/migrate-postgres.ts';
import { createGeneration } from '../../src/lib/generation/create.ts';
import { claimGeneration } from '../../src/lib/generation/queue.ts';
import { claimBlobDeletions, queueBlobDeletions } from '../../src/lib/video/blob-deletions.ts';
import { seedUser } from '../helpers/fixtures.ts';
import { createTestDatabase, type TestPostgres } from '../helpers/postgres.ts';

const { config } = loadConfig({ NODE_ENV: 'test' });
const now = 1_000_000;

let database: TestPostgres | null = null;
afterEach(async () => {
  await database?.drop();
  database = null;
});

/** Until the other connection waits for a row lock (bounded: a claim that never blocks fails the test). */
async function untilWaitingForRowLock(watcher: Database, table = 'generations'): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const waiting = await watcher.value(
      `SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE ?`,
      [`UPDATE ${table}%`],
    );
    if (waiting === 1) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('the second claim never waited for the first one’s row lock');
}

/**
 * Under READ COMMITTED two processes can pick the same due row; the one that waited for the
 * other's row lock must then find it leased, not claim it a second time (queue.ts).
 */
describe('generation claims on PostgreSQL across processes', () => {
  it('gives a row picked by two processes at once to the first; the second claims nothing', async () => {
    database = await createTestDatabase();
    const { db } = database;
    await migratePostgres(db);
    const userId = (await seedUser(db, { now })).id;
    await db.run(
      `INSERT INTO uploads (id, userId, path, mime, width, height, bytes, createdAt) VALUES ('upl_1', ?, 'users/x/uploads/upl_1.jpg', 'image/jpeg', 640, 480, 10, ?)`,
      [userId, now],
    );
    const { generationId } = await createGeneration({
      db, config, userId, body: { prompt: 'Флакон на столе', duration: 6, mode: 'prompt' }, idempotencyKey: null, now,
    });
    const other = database.connect();
    const watcher = database.connect();
    const options = { lane: 'prepare' as const, now, leaseMs: 60_000 };

    let second: ReturnType<typeof claimGeneration> | null = null;
    const first = await db.withTransaction(async (tx) => {
      const mine = await claimGeneration(tx, { ...options, workerId: 'first' });
      second = claimGeneration(other, { ...options, workerId: 'second' });
      await untilWaitingForRowLock(watcher);
      return mine;
    });

    expect(first).toMatchObject({ id: generationId, attempt: 1 });
    expect(await second!).toBeNull();
    expect(await db.get('SELECT attempt, locked_by FROM generations WHERE id = ?', [generationId])).toEqual({ attempt: 1, locked_by: 'first' });
  });
});

/** The same race for the retention sweep's files (blob-deletions.ts): each file is deleted by one sweeper. */
describe('file deletion claims on PostgreSQL across processes', () => {
  it('gives files picked by two sweepers at once to the first; the second claims none of them', async () => {
    database = await createTestDatabase();
    const { db } = database;
    await migratePostgres(db);
    const keys = ['users/u1/videos/gen_1.a1.mp4', 'users/u1/videos/gen_1.a1.poster.jpg'];
    await db.withTransaction((tx) => queueBlobDeletions(tx, keys.map((key) => ({ key, generationId: 'gen_1' })), now));
    const other = database.connect();
    const watcher = database.connect();
    const options = { now, leaseMs: 60_000, limit: 10 };

    let second: ReturnType<typeof claimBlobDeletions> | null = null;
    const first = await db.withTransaction(async (tx) => {
      const mine = await claimBlobDeletions(tx, { ...options, owner: 'first' });
      second = claimBlobDeletions(other, { ...options, owner: 'second' });
      await untilWaitingForRowLock(watcher, 'blob_deletions');
      return mine;
    });

    expect(first.map((claim) => claim.key).sort()).toEqual([...keys].sort());
    expect(await second!).toEqual([]);
    expect(await db.all('SELECT DISTINCT claimed_by, attempts FROM blob_deletions')).toEqual([{ claimed_by: 'first', attempts: 1 }]);
  });
});
