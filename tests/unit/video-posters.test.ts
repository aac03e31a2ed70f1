import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate, openDatabase, type Db } from '../../src/lib/db/index.ts';
import { loadConfig } from '../../src/lib/config.ts';
import { createGeneration } from '../../src/lib/generation/create.ts';
import { createFfmpeg } from '../../src/lib/video/ffmpeg.ts';
import { PosterTaker, type DeliveredVideo } from '../../src/lib/video/posters.ts';
import { relativeUserFile } from '../../src/lib/storage.ts';
import { createLocalBlobStore } from '../../src/lib/blobs/local-store.ts';
import { seedUserWithPhoto } from '../helpers/seed.ts';
import { tempDir } from '../helpers/app.ts';
import { waitUntil } from '../helpers/generation.ts';
import { capturedLog } from '../helpers/log.ts';
import { gatedPosterFfmpeg } from '../helpers/media.ts';

/**
 * The poster of a delivered video is recorded only for the attempt and file that delivered it:
 * a late poster of an earlier attempt neither replaces nor deletes what is on record now.
 */

const { config } = loadConfig({ NODE_ENV: 'test' });
const T0 = Date.UTC(2026, 0, 1);
const HOUR = 60 * 60_000;

let db: Db;
let dir: string;
let posters: PosterTaker;
let newTaker: () => PosterTaker;
let userId: string;
let generationId: string;

beforeEach(async () => {
  db = openDatabase(':memory:');
  migrate(db);
  dir = tempDir('beem-posters-');
  userId = await seedUserWithPhoto(db, { now: T0, trialCredits: 1 });
  generationId = (await createGeneration({ db, config, userId, body: { prompt: 'Флакон на столе, камера приближается', duration: 6, mode: 'prompt' }, idempotencyKey: null, now: T0 })).generationId;
  const ffmpeg = await gatedPosterFfmpeg(dir);
  ffmpeg.open();
  newTaker = () =>
    new PosterTaker({
      db,
      clock: { now: () => T0 + HOUR },
      log: capturedLog('info').log,
      ffmpeg: createFfmpeg({ path: ffmpeg.path, concurrency: 1 }),
      blobs: createLocalBlobStore(dir),
      settings: { timeoutMs: 60_000, maxPending: 10, catchUpMs: HOUR },
    });
  posters = newTaker();
  fs.mkdirSync(videosPath(), { recursive: true });
  // The delivered video: ffmpeg (a stand-in here) reads it through the store.
  fs.writeFileSync(path.join(videosPath(), `${generationId}.mp4`), 'stand-in video');
});
afterEach(async () => {
  await posters.stop();
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const video = (attempt: number, file = `${generationId}.mp4`): DeliveredVideo => ({
  generationId,
  userId,
  attempt,
  relativePath: relativeUserFile(userId, 'videos', file),
});

/** The generation as the worker leaves it when `attempt` delivered `file`. */
async function delivered(attempt: number, file = `${generationId}.mp4`, completedAt = T0): Promise<void> {
  fs.writeFileSync(path.join(videosPath(), file), 'stand-in video');
  await db.run(
    `UPDATE generations SET status = 'success', step = 'done', charged = 1, attempt = ?, video_path = ?, completedAt = ? WHERE id = ?`,
    [attempt, video(attempt, file).relativePath, completedAt, generationId],
  );
}

const posterPath = () => db.value<string | null>('SELECT poster_path FROM generations WHERE id = ?', [generationId]);
const videosPath = () => path.join(dir, path.dirname(relativeUserFile(userId, 'videos', 'x')));
/** The posters in the user's videos folder (the videos themselves are there too). */
const videosDir = () => fs.readdirSync(videosPath()).filter((name) => name.endsWith('.poster.jpg'));
const settled = (taker: PosterTaker) => waitUntil(() => taker.waiting() === 0, 10_000, 'the poster to settle');

describe('the poster of a delivered video', () => {
  it('is recorded for the attempt that delivered the video', async () => {
    await delivered(1);
    posters.take(video(1));
    await settled(posters);
    expect(await posterPath()).toBe(relativeUserFile(userId, 'videos', `${generationId}.a1.poster.jpg`));
    expect(videosDir()).toEqual([`${generationId}.a1.poster.jpg`]);
  });

  it('is dropped when a newer attempt is on record, leaving that attempt’s poster alone', async () => {
    await delivered(2);
    posters.take(video(2));
    await settled(posters);
    const current = await posterPath();
    const before = fs.readFileSync(path.join(dir, current!));
    // The first attempt's poster run ends late, after the second attempt delivered its video.
    posters.take(video(1));
    await settled(posters);
    expect(await posterPath()).toBe(current);
    expect(fs.readFileSync(path.join(dir, current!)).equals(before)).toBe(true);
    expect(videosDir()).toEqual([`${generationId}.a2.poster.jpg`]);
  });

  it('is dropped when another file is the video on record', async () => {
    await delivered(1, `${generationId}.other.mp4`);
    posters.take(video(1));
    await settled(posters);
    expect(await posterPath()).toBeNull();
    expect(videosDir()).toEqual([]);
  });

  it('is taken at start when a stopped process left a recent video without one', async () => {
    await delivered(1, `${generationId}.mp4`, T0 + 1);
    const restarted = newTaker();
    restarted.start();
    await settled(restarted);
    expect(await posterPath()).toBe(relativeUserFile(userId, 'videos', `${generationId}.a1.poster.jpg`));
  });

  it('is not looked for at start for videos older than the catch-up window', async () => {
    await delivered(1, `${generationId}.mp4`, T0 - 1);
    const restarted = newTaker();
    restarted.start();
    // The start's search runs in the background: once it has ended, it queued no poster.
    await settled(restarted);
    expect(await posterPath()).toBeNull();
    expect(videosDir()).toEqual([]);
  });
});
