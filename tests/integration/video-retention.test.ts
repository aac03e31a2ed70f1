import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/lib/clock.ts';
import { createLocalBlobStore } from '../../src/lib/blobs/local-store.ts';
import { createS3BlobStore } from '../../src/lib/blobs/s3-store.ts';
import type { BlobStore } from '../../src/lib/blobs/index.ts';
import type { Database } from '../../src/lib/db/database.ts';
import type { AppContext } from '../../src/lib/context.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { DAY_MS } from '../../src/lib/video/retention.ts';
import { finishExport } from '../../src/lib/video/export-store.ts';
import { DEFAULT_RETENTION_SETTINGS, RetentionSweeper, type RetentionSettings } from '../../src/lib/video/retention-sweeper.ts';
import { openSecondConnection, startApp, testsUsePostgres, type TestApp } from '../helpers/app.ts';
import { apiFetch } from '../helpers/http.ts';
import { createSignedInUser, type SignedInUser } from '../helpers/users.ts';
import { balanceOf, generationRow, ledgerOf, waitUntil } from '../helpers/generation.ts';
import { S3RVER_CREDENTIALS, startS3Forwarder, startS3Server, type S3Fault, type S3Forwarder, type TestS3Server } from '../helpers/s3-server.ts';

/**
 * VIDEO_RETENTION_DAYS end to end: the sweep expires videos older than the setting (and only
 * those), deletes their original, poster and exports from the local disk or an S3 bucket, and
 * the owner is told why the video is gone; several sweepers at once delete each file once, and
 * a delete that fails is tried again by the next pass.
 */

const log = createLogger('silent');

interface Delivered {
  id: string;
  video: string;
  poster: string;
  exportVideo: string;
  exportCover: string;
  photo: string;
}

/** A delivered, charged video `ageMs` old, with its poster, one export and cover, all in `store`; its photo too. */
async function seedDelivered(db: Database, store: BlobStore, userId: string, id: string, options: { now: number; ageMs: number }): Promise<Delivered> {
  const dir = `users/${userId}`;
  const files: Delivered = {
    id,
    video: `${dir}/videos/${id}.a1.mp4`,
    poster: `${dir}/videos/${id}.a1.poster.jpg`,
    exportVideo: `${dir}/videos/${id}.export.clips.blur.mp4`,
    exportCover: `${dir}/videos/${id}.cover.clips.blur.jpg`,
    photo: `${dir}/uploads/upl_${id}.jpg`,
  };
  for (const key of [files.video, files.poster, files.exportVideo, files.exportCover, files.photo]) {
    await store.put(key, Readable.from([Buffer.from(`bytes of ${key}`)]));
  }
  const completedAt = options.now - options.ageMs;
  await db.run(
    `INSERT INTO uploads (id, userId, path, mime, width, height, bytes, createdAt) VALUES (?, ?, ?, 'image/jpeg', 640, 480, 10, ?)`,
    [`upl_${id}`, userId, files.photo, completedAt - 120_000],
  );
  await db.run(
    `INSERT INTO generations (id, userId, status, step, duration, cost, charged, upload_id, image_path, prompt, generation_mode,
       video_path, poster_path, video_width, video_height, attempt, createdAt, updatedAt, completedAt)
     VALUES (?, ?, 'success', 'done', 6, 1, 1, ?, ?, 'Кружка кофе', 'prompt', ?, ?, 720, 960, 1, ?, ?, ?)`,
    [id, userId, `upl_${id}`, files.photo, files.video, files.poster, completedAt - 60_000, completedAt, completedAt],
  );
  for (const [kind, key] of [
    ['video', files.exportVideo],
    ['cover', files.exportCover],
  ] as const) {
    await db.run(
      `INSERT INTO video_exports (generationId, target, fit, kind, state, path, bytes, attempt, requestedAt, finishedAt, updatedAt)
       VALUES (?, 'clips', 'blur', ?, 'done', ?, 10, 1, ?, ?, ?)`,
      [id, kind, key, completedAt, completedAt, completedAt],
    );
  }
  return files;
}

function sweeper(ctx: AppContext, options: { db?: Database; blobs: BlobStore; settings?: Partial<RetentionSettings> }): RetentionSweeper {
  return new RetentionSweeper({
    db: options.db ?? ctx.db,
    clock: ctx.clock,
    log,
    blobs: options.blobs,
    settings: { ...DEFAULT_RETENTION_SETTINGS, days: 30, ...options.settings },
  });
}

const exportsOf = (ctx: AppContext, id: string) => ctx.db.all('SELECT kind, path FROM video_exports WHERE generationId = ? ORDER BY kind', [id]);
const queuedKeys = async (ctx: AppContext) => (await ctx.db.all<{ blob_key: string }>('SELECT blob_key FROM blob_deletions ORDER BY blob_key')).map((r) => r.blob_key);

describe('the retention sweep on the local disk', () => {
  const clock = new ManualClock(Date.UTC(2026, 5, 1, 3, 0));
  let app: TestApp;
  let store: BlobStore;
  let seller: SignedInUser;
  let old: Delivered;
  let young: Delivered;
  let unfinishedId: string;

  beforeAll(async () => {
    // The disk whatever BEEM_TEST_STORAGE says: the app's own sweeper deletes from the store seeded here.
    app = await startApp({ clock, env: { VIDEO_RETENTION_DAYS: '30', STORAGE: 'local' } });
    store = createLocalBlobStore(app.ctx.config.paths.storageDir);
    seller = await createSignedInUser(app.ctx, { balance: 5 });
    const now = clock.now();
    old = await seedDelivered(app.ctx.db, store, seller.user.id, 'gen_old', { now, ageMs: 31 * DAY_MS });
    // One millisecond short of the setting: not old enough, however close.
    young = await seedDelivered(app.ctx.db, store, seller.user.id, 'gen_young', { now, ageMs: 30 * DAY_MS - 1 });
    unfinishedId = 'gen_unfinished';
    await app.ctx.db.run(
      `INSERT INTO generations (id, userId, status, step, duration, cost, prompt, generation_mode, createdAt, updatedAt)
       VALUES (?, ?, 'processing', 'poll', 6, 1, 'Кружка', 'prompt', ?, ?)`,
      [unfinishedId, seller.user.id, now - 40 * DAY_MS, now - 40 * DAY_MS],
    );
  });
  afterAll(async () => {
    await app.stop();
  });

  const exists = (key: string) => store.exists(key);

  it('is built from VIDEO_RETENTION_DAYS and, at its start, removes a video older than the setting with its poster and exports', async () => {
    const balance = await balanceOf(app.ctx, seller.user.id);
    const ledger = await ledgerOf(app.ctx, seller.user.id);
    const task = app.ctx.tasks.find((t) => t.name === 'video-retention') as RetentionSweeper;
    task.start();
    try {
      await waitUntil(() => task.passesDone >= 1, 10_000, 'the first retention pass');
    } finally {
      await task.stop();
    }

    for (const key of [old.video, old.poster, old.exportVideo, old.exportCover]) expect(await exists(key), key).toBe(false);
    const row = await generationRow(app.ctx, old.id);
    expect(row).toMatchObject({ status: 'success', charged: 1, refunded: 0, video_path: null, poster_path: null, expiredAt: clock.now(), retention_days: 30 });
    expect(await exportsOf(app.ctx, old.id)).toEqual([]);
    expect(await queuedKeys(app.ctx)).toEqual([]);
    // The photo it was made from stays (retention.ts says why).
    expect(await exists(old.photo)).toBe(true);
    // Credits are not touched: the video was delivered and paid for.
    expect(await balanceOf(app.ctx, seller.user.id)).toBe(balance);
    expect(await ledgerOf(app.ctx, seller.user.id)).toEqual(ledger);
    const events = await app.ctx.db.all<{ kind: string }>(`SELECT kind FROM generation_events WHERE generationId = ? AND kind = 'expired'`, [old.id]);
    expect(events).toHaveLength(1);
  });

  it('leaves a video younger than the setting and an unfinished generation as they were', async () => {
    for (const key of [young.video, young.poster, young.exportVideo, young.exportCover, young.photo]) expect(await exists(key), key).toBe(true);
    expect(await generationRow(app.ctx, young.id)).toMatchObject({ video_path: young.video, poster_path: young.poster, expiredAt: null, retention_days: null });
    expect(await exportsOf(app.ctx, young.id)).toHaveLength(2);
    expect(await generationRow(app.ctx, unfinishedId)).toMatchObject({ status: 'processing', step: 'poll', expiredAt: null });
  });

  it('tells the owner why the video is gone, in their language, with no video to play or download', async () => {
    const status = await apiFetch(app.url, `/api/status?generationId=${old.id}`, { cookie: seller.cookie });
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({
      id: old.id,
      status: 'success',
      videoUrl: null,
      downloadUrl: null,
      expiredAt: clock.now(),
      expiredMessage: 'Ролик удалён через 30 дней хранения.',
      // The kept photo stands in as the picture.
      posterUrl: `/api/video/${old.id}/poster.jpg?frame=1`,
    });
    const english = await apiFetch(app.url, `/api/status?generationId=${old.id}`, { cookie: `${seller.cookie}; beem_lang=en` });
    expect(await english.json()).toMatchObject({ expiredMessage: 'Video deleted after 30 days of storage.' });

    const history = (await (await apiFetch(app.url, '/api/generations', { cookie: seller.cookie })).json()) as {
      items: Array<{ id: string; videoUrl: string | null; expiredMessage: string | null }>;
    };
    const byId = new Map(history.items.map((item) => [item.id, item]));
    expect(byId.get(old.id)).toMatchObject({ videoUrl: null, expiredMessage: 'Ролик удалён через 30 дней хранения.' });
    expect(byId.get(young.id)).toMatchObject({ videoUrl: `/api/video/${young.id}`, expiredMessage: null });
  });

  it('answers 410 Gone with the reason for the video and its exports, and still shows the photo as its picture', async () => {
    for (const url of [`/api/video/${old.id}`, `/api/video/${old.id}?download=1`, `/api/video/${old.id}/export/clips`, `/api/video/${old.id}/export/clips/cover.jpg`]) {
      const res = await apiFetch(app.url, url, { cookie: seller.cookie });
      expect(res.status, url).toBe(410);
      expect(await res.json(), url).toEqual({ success: false, code: 'VIDEO_EXPIRED', error: 'Ролик удалён через 30 дней хранения.', expiredAt: clock.now() });
    }
    const poster = await apiFetch(app.url, `/api/video/${old.id}/poster.jpg?frame=1`, { cookie: seller.cookie });
    expect(poster.status).toBe(200);
    expect(Buffer.from(await poster.arrayBuffer()).toString()).toBe(`bytes of ${old.photo}`);

    // Someone else still gets "not found", as for any video not theirs.
    const stranger = await createSignedInUser(app.ctx);
    expect((await apiFetch(app.url, `/api/video/${old.id}`, { cookie: stranger.cookie })).status).toBe(404);
    // The young video still plays.
    expect((await apiFetch(app.url, `/api/video/${young.id}`, { cookie: seller.cookie })).status).toBe(200);
  });

  it('shows the video as deleted on the admin pages', async () => {
    const admin = await createSignedInUser(app.ctx, { role: 'admin' });
    const detail = await (await apiFetch(app.url, `/admin/generations/${old.id}`, { cookie: admin.cookie })).text();
    expect(detail).toContain('data-testid="gen-expired"');
    expect(detail).toContain('Ролик удалён через 30 дней хранения.');
    expect(detail).not.toContain(`src="/api/video/${old.id}"`);
    const list = await (await apiFetch(app.url, `/admin/generations?user=${encodeURIComponent(seller.user.id)}`, { cookie: admin.cookie })).text();
    const line = list.slice(list.indexOf(`data-generation="${old.id}"`));
    expect(line.slice(0, line.indexOf('</tr>'))).toContain('удалён по сроку хранения');
  });

  it('runs again a day later, going by the clock: the young video goes once it is old enough', async () => {
    const task = sweeper(app.ctx, { blobs: store, settings: { checkEveryMs: 20 } });
    task.start();
    try {
      await waitUntil(() => task.passesDone >= 1, 10_000, 'the first pass');
      expect(await generationRow(app.ctx, young.id)).toMatchObject({ expiredAt: null });
      clock.advance(DAY_MS);
      await waitUntil(() => task.passesDone >= 2, 10_000, 'the next day’s pass');
    } finally {
      await task.stop();
    }
    expect(await generationRow(app.ctx, young.id)).toMatchObject({ video_path: null, expiredAt: clock.now(), retention_days: 30 });
    for (const key of [young.video, young.poster, young.exportVideo, young.exportCover]) expect(await exists(key), key).toBe(false);
  });

  it('leaves an export being made when its video expires to its runner, then removes it and its file once it is done', async () => {
    const video = await seedDelivered(app.ctx.db, store, seller.user.id, 'gen_exporting', { now: clock.now(), ageMs: 31 * DAY_MS });
    const exportKey = `users/${seller.user.id}/videos/${video.id}.export.wide.crop.mp4`;
    // A runner of another process holds this export (claimed, lease running).
    await app.ctx.db.run(
      `INSERT INTO video_exports (generationId, target, fit, kind, state, attempt, locked_by, locked_until, requestedAt, startedAt, updatedAt)
       VALUES (?, 'wide', 'crop', 'video', 'running', 1, 'other-process', ?, ?, ?, ?)`,
      [video.id, clock.now() + 60_000, clock.now(), clock.now(), clock.now()],
    );
    const running = (await app.ctx.db.value<number>(`SELECT id FROM video_exports WHERE generationId = ? AND state = 'running'`, [video.id]))!;
    const task = sweeper(app.ctx, { blobs: store });

    expect(await task.runPass()).toMatchObject({ expired: 1, deleted: 4 });
    expect(await exportsOf(app.ctx, video.id)).toEqual([{ kind: 'video', path: null }]);

    // The runner finishes after the expiry: its file lands and is recorded as usual…
    await store.put(exportKey, Readable.from([Buffer.from('a late export')]));
    expect(await finishExport(app.ctx.db, { id: running, attempt: 1 }, { path: exportKey, bytes: 13 }, clock.now())).toBe(true);
    // …and the next pass removes both.
    expect(await task.runPass()).toMatchObject({ expired: 0, deleted: 1, waiting: 0 });
    expect(await exportsOf(app.ctx, video.id)).toEqual([]);
    expect(await exists(exportKey)).toBe(false);
  });

  it('bounds a pass: it stops after its rounds and says the work is not complete', async () => {
    const backlog: Delivered[] = [];
    for (let i = 0; i < 3; i += 1) backlog.push(await seedDelivered(app.ctx.db, store, seller.user.id, `gen_backlog_${i}`, { now: clock.now(), ageMs: 50 * DAY_MS - i }));
    const task = sweeper(app.ctx, { blobs: store, settings: { batchSize: 1, maxRoundsPerPass: 2 } });
    expect(await task.runPass()).toMatchObject({ expired: 2, complete: false });
    expect(await generationRow(app.ctx, backlog[2]!.id)).toMatchObject({ expiredAt: null });
    const rest = await task.runPass();
    expect(rest).toMatchObject({ expired: 1, waiting: 0 });
    for (const video of backlog) expect(await exists(video.video), video.id).toBe(false);
  });

  it('keeps every video when VIDEO_RETENTION_DAYS is unset', async () => {
    const ancient = await seedDelivered(app.ctx.db, store, seller.user.id, 'gen_ancient', { now: clock.now(), ageMs: 3650 * DAY_MS });
    const report = await sweeper(app.ctx, { blobs: store, settings: { days: null } }).runPass();
    expect(report).toMatchObject({ expired: 0, deleted: 0, failed: 0, complete: true });
    for (const key of [ancient.video, ancient.poster, ancient.exportVideo, ancient.exportCover]) expect(await exists(key), key).toBe(true);
    expect(await generationRow(app.ctx, ancient.id)).toMatchObject({ video_path: ancient.video, expiredAt: null });
  });
});

describe('the retention sweep on an S3 bucket', () => {
  const clock = new ManualClock(Date.UTC(2026, 5, 1, 3, 0));
  let app: TestApp;
  let s3: TestS3Server;
  let forwarder: S3Forwarder;
  let scratchDir: string;
  /** Set by a test: the DELETE requests the forwarder refuses. */
  let refuse: (url: string) => boolean = () => false;
  let direct: BlobStore;
  const stores: BlobStore[] = [];
  let seller: SignedInUser;

  /** A store that talks to the bucket through the forwarder (which counts and can refuse requests). */
  function bucketStore(): BlobStore {
    const store = createS3BlobStore({
      endpoint: forwarder.endpoint,
      region: s3.region,
      bucket: s3.bucket,
      ...S3RVER_CREDENTIALS,
      forcePathStyle: true,
      scratchDir,
    });
    stores.push(store);
    return store;
  }

  const deletesOf = (key: string) => forwarder.requests.filter((r) => r.method === 'DELETE' && r.url.split('?')[0] === `/${s3.bucket}/${key}`).length;

  beforeAll(async () => {
    s3 = await startS3Server();
    // 403 is not retried by the SDK: one refused request is one failed delete.
    forwarder = await startS3Forwarder(s3.endpoint, (request): S3Fault => (request.method === 'DELETE' && refuse(request.url) ? 403 : null));
    scratchDir = fs.mkdtempSync(path.join(os.tmpdir(), 'beem-retention-scratch-'));
    app = await startApp({ clock });
    direct = createS3BlobStore({ endpoint: s3.endpoint, region: s3.region, bucket: s3.bucket, ...S3RVER_CREDENTIALS, forcePathStyle: true, scratchDir });
    stores.push(direct);
    seller = await createSignedInUser(app.ctx, { balance: 5 });
  });
  afterAll(async () => {
    for (const store of stores) store.close();
    await app.stop();
    await forwarder.stop();
    await s3.stop();
    fs.rmSync(scratchDir, { recursive: true, force: true });
  });

  it('deletes each file once when two sweepers run at once (on PostgreSQL each on its own connection)', async () => {
    const videos: Delivered[] = [];
    for (let i = 0; i < 12; i += 1) videos.push(await seedDelivered(app.ctx.db, direct, seller.user.id, `gen_pair_${i}`, { now: clock.now(), ageMs: 31 * DAY_MS + i }));
    // SQLite is one process's database (a second connection in this process would wait on the
    // first with the event loop blocked); there the two sweepers share it, as two tasks would.
    const second = testsUsePostgres() ? openSecondConnection(app.ctx) : null;
    try {
      // Small batches, so the two interleave over many rounds.
      const settings = { batchSize: 3 };
      const [a, b] = await Promise.all([
        sweeper(app.ctx, { blobs: bucketStore(), settings }).runPass(),
        sweeper(app.ctx, { db: second ?? app.ctx.db, blobs: bucketStore(), settings }).runPass(),
      ]);
      expect(a.expired + b.expired).toBe(12);
      expect(a.deleted + b.deleted).toBe(48);
      expect(a.failed + b.failed).toBe(0);
    } finally {
      await second?.end();
    }
    for (const video of videos) {
      for (const key of [video.video, video.poster, video.exportVideo, video.exportCover]) {
        expect(deletesOf(key), key).toBe(1);
        expect(await direct.exists(key), key).toBe(false);
      }
      expect(await direct.exists(video.photo)).toBe(true);
      const expired = await app.ctx.db.value<number>(`SELECT COUNT(*) FROM generation_events WHERE generationId = ? AND kind = 'expired'`, [video.id]);
      expect(expired, video.id).toBe(1);
    }
    expect(await queuedKeys(app.ctx)).toEqual([]);
  });

  it('keeps a file whose delete failed queued, with no row naming it, and deletes it on the next pass', async () => {
    const video = await seedDelivered(app.ctx.db, direct, seller.user.id, 'gen_refused', { now: clock.now(), ageMs: 40 * DAY_MS });
    refuse = (url) => url.includes(video.poster);
    const task = sweeper(app.ctx, { blobs: bucketStore() });

    const first = await task.runPass();
    expect(first).toMatchObject({ expired: 1, deleted: 3, failed: 1, waiting: 1 });
    expect(await direct.exists(video.poster)).toBe(true);
    expect(await direct.exists(video.video)).toBe(false);
    // The generation is expired at once: nothing points to the poster as if it were there.
    expect(await generationRow(app.ctx, video.id)).toMatchObject({ poster_path: null, video_path: null, expiredAt: clock.now() });
    const queued = await app.ctx.db.get('SELECT blob_key, generationId, attempts, claimed_by, last_error FROM blob_deletions');
    expect(queued).toMatchObject({ blob_key: video.poster, generationId: video.id, attempts: 1, claimed_by: null });
    expect(String(queued!.last_error)).toMatch(/delete/);

    // The same pass does not hammer the store: the key waits for the next pass.
    expect(await task.runPass()).toMatchObject({ deleted: 0, failed: 0, waiting: 1 });
    expect(deletesOf(video.poster)).toBe(1);

    refuse = () => false;
    clock.advance(DAY_MS);
    expect(await task.runPass()).toMatchObject({ expired: 0, deleted: 1, failed: 0, waiting: 0 });
    expect(await direct.exists(video.poster)).toBe(false);
    expect(deletesOf(video.poster)).toBe(2);
  });
});
