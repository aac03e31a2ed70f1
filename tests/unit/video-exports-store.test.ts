import { describe, expect, it } from 'vitest';
import { useTempDatabases } from '../helpers/db.ts';
import { seedUser } from '../helpers/fixtures.ts';
import type { Db } from '../../src/lib/db/index.ts';
import { claimExport, extendExportLease, failExport, finishExport, releaseExport, requestExport, type ExportKey } from '../../src/lib/video/export-store.ts';

const KEY: ExportKey = { generationId: 'gen_1', target: 'clips', fit: 'blur', kind: 'video' };
const T0 = 1_800_000_000_000;
const LEASE = 30_000;

async function seedVideo(db: Db): Promise<void> {
  const user = await seedUser(db);
  await db.run(
    `INSERT INTO generations (id, userId, status, step, duration, cost, generation_mode, video_path, createdAt, updatedAt)
     VALUES ('gen_1', ?, 'success', 'done', 6, 1, 'prompt', 'users/x/videos/gen_1.mp4', ?, ?)`,
    [user.id, T0, T0],
  );
}

const claim = (db: Db, now: number, workerId = 'w1') => claimExport(db, { workerId, now, leaseMs: LEASE, maxAttempts: 3 });
const ask = (db: Db, now: number, missingFile: string | null = null) => requestExport(db, KEY, { now, retryFailedAfterMs: 60_000, missingFile });

describe('the export table', () => {
  const open = useTempDatabases();

  it('keeps one row per export: a second request joins the first', async () => {
    const db = open();
    await seedVideo(db);
    expect(await ask(db, T0)).toMatchObject({ state: 'pending', attempt: 0 });
    expect(await ask(db, T0 + 1)).toMatchObject({ state: 'pending', requestedAt: T0 });
    expect(await db.value('SELECT COUNT(*) FROM video_exports')).toBe(1);
  });

  it('gives a running export to one worker; another takes it only once the lease lapsed', async () => {
    const db = open();
    await seedVideo(db);
    await ask(db, T0);
    const first = (await claim(db, T0, 'w1'))!;
    expect(first).toMatchObject({ state: 'running', attempt: 1 });
    expect(await claim(db, T0 + 1, 'w2')).toBeNull();
    expect(await extendExportLease(db, first, T0 + 2 * LEASE)).toBe(true);
    expect(await claim(db, T0 + LEASE + 1, 'w2')).toBeNull();
    const second = (await claim(db, T0 + 2 * LEASE + 1, 'w2'))!;
    expect(second).toMatchObject({ attempt: 2 });
    // The first worker's late result changes nothing: its attempt is not the row's any more.
    expect(await finishExport(db, first, { path: 'old.mp4', bytes: 1 }, T0 + 3 * LEASE)).toBe(false);
    expect(await extendExportLease(db, first, T0 + 9 * LEASE)).toBe(false);
    expect(await finishExport(db, second, { path: 'new.mp4', bytes: 2 }, T0 + 3 * LEASE)).toBe(true);
    expect(await ask(db, T0 + 3 * LEASE)).toMatchObject({ state: 'done', path: 'new.mp4', bytes: 2 });
  });

  it('fails an export whose process keeps dying instead of trying it forever', async () => {
    const db = open();
    await seedVideo(db);
    await ask(db, T0);
    let now = T0;
    for (let attempt = 1; attempt <= 3; attempt++) {
      expect(await claim(db, now)).toMatchObject({ attempt });
      now += LEASE + 1;
    }
    expect(await claim(db, now)).toBeNull();
    expect(await ask(db, now)).toMatchObject({ state: 'failed', errorCode: 'EXPORT_ATTEMPTS' });
  });

  it('tries a failed export again only after a pause, and remakes a finished one whose file is gone', async () => {
    const db = open();
    await seedVideo(db);
    await ask(db, T0);
    const running = (await claim(db, T0))!;
    expect(await failExport(db, running, { code: 'EXPORT_TIMEOUT', message: 'too long' }, T0 + 10)).toBe(true);
    expect(await ask(db, T0 + 30_000)).toMatchObject({ state: 'failed', errorCode: 'EXPORT_TIMEOUT' });
    expect(await ask(db, T0 + 70_010)).toMatchObject({ state: 'pending', errorCode: null });
    const again = (await claim(db, T0 + 70_020))!;
    await finishExport(db, again, { path: 'made.mp4', bytes: 5 }, T0 + 70_030);
    expect(await ask(db, T0 + 70_040)).toMatchObject({ state: 'done', path: 'made.mp4' });
    // Another file found gone (a stale look-up) is not this export's.
    expect(await ask(db, T0 + 70_045, 'older.mp4')).toMatchObject({ state: 'done', path: 'made.mp4' });
    expect(await ask(db, T0 + 70_050, 'made.mp4')).toMatchObject({ state: 'pending', path: null });
  });

  it('gives an export back at shutdown without counting it failed', async () => {
    const db = open();
    await seedVideo(db);
    await ask(db, T0);
    const running = (await claim(db, T0))!;
    expect(await releaseExport(db, running, T0 + 5)).toBe(true);
    expect(await claim(db, T0 + 6)).toMatchObject({ state: 'running', attempt: 2 });
  });

  it("queues at most the owner's allowance of exports at once; joining, finishing and other owners are not counted against it", async () => {
    const db = open();
    await seedVideo(db);
    const owner = (await db.value<string>("SELECT userId FROM generations WHERE id = 'gen_1'"))!;
    const other = await seedUser(db, { email: 'other@example.ru' });
    await db.run(
      `INSERT INTO generations (id, userId, status, step, duration, cost, generation_mode, video_path, createdAt, updatedAt)
       VALUES ('gen_2', ?, 'success', 'done', 6, 1, 'prompt', 'users/y/videos/gen_2.mp4', ?, ?)`,
      [other.id, T0, T0],
    );
    const limited = (key: ExportKey, userId: string, now = T0) =>
      requestExport(db, key, { now, retryFailedAfterMs: 60_000, ownerLimit: { userId, max: 2 } });
    const wb: ExportKey = { ...KEY, target: 'wildberries' };
    const square: ExportKey = { ...KEY, target: 'square' };
    expect(await limited(KEY, owner)).toMatchObject({ state: 'pending' });
    expect(await limited(wb, owner)).toMatchObject({ state: 'pending' });
    // A third one waits for a free place: nothing is queued for it.
    expect(await limited(square, owner)).toBe('busy');
    expect(await db.value("SELECT COUNT(*) FROM video_exports WHERE target = 'square'")).toBe(0);
    // Asking again for one already being made joins it; another owner has an allowance of their own.
    expect(await limited(KEY, owner)).toMatchObject({ state: 'pending', requestedAt: T0 });
    expect(await limited({ ...KEY, generationId: 'gen_2' }, other.id, T0 + 1)).toMatchObject({ state: 'pending' });
    // Once one is ready (the oldest, the owner's), the next one is taken.
    const running = (await claim(db, T0 + 2))!;
    expect(running.generationId).toBe('gen_1');
    expect(await finishExport(db, running, { path: 'a.mp4', bytes: 1 }, T0 + 3)).toBe(true);
    expect(await limited(square, owner, T0 + 4)).toMatchObject({ state: 'pending' });
    expect(await limited({ ...KEY, target: 'wide' }, owner, T0 + 5)).toBe('busy');
  });
});
