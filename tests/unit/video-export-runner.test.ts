import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/lib/db/index.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { createFfmpeg, type Ffmpeg } from '../../src/lib/video/ffmpeg.ts';
import { ExportRunner } from '../../src/lib/video/export-runner.ts';
import { createLocalBlobStore } from '../../src/lib/blobs/local-store.ts';
import { requestExport, type ExportKey } from '../../src/lib/video/export-store.ts';
import { useTempDatabases } from '../helpers/db.ts';
import { seedUser } from '../helpers/fixtures.ts';
import { tempDir } from '../helpers/app.ts';
import { hangingFfmpeg } from '../helpers/media.ts';
import { waitUntil } from '../helpers/generation.ts';
import { capturedLog } from '../helpers/log.ts';

/**
 * The export runner at shutdown: `stop()` resolves only once the export it was making has been
 * given back (pending again, same attempt, no lease), so the next process takes it at once.
 */

const T0 = 1_800_000_000_000;
const KEY: ExportKey = { generationId: 'gen_1', target: 'clips', fit: 'blur', kind: 'video' };

async function seedVideo(db: Db): Promise<void> {
  const user = await seedUser(db);
  await db.run(
    `INSERT INTO generations (id, userId, status, step, duration, cost, generation_mode, video_path, video_duration_ms, createdAt, updatedAt)
     VALUES ('gen_1', ?, 'success', 'done', 6, 1, 'prompt', 'users/x/videos/gen_1.mp4', 6000, ?, ?)`,
    [user.id, T0, T0],
  );
}

describe('the export runner', () => {
  const open = useTempDatabases();
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  function runner(db: Db): { exports: ExportRunner; ffmpeg: Ffmpeg } {
    const dir = tempDir('beem-export-runner-');
    dirs.push(dir);
    const ffmpeg = createFfmpeg({ path: hangingFfmpeg(dir), concurrency: 2 });
    // The original the export is made from (ffmpeg, a stand-in here, reads it through the store).
    fs.mkdirSync(path.join(dir, 'users/x/videos'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'users/x/videos/gen_1.mp4'), 'stand-in video');
    const exports = new ExportRunner({
      db,
      clock: new ManualClock(T0),
      log: capturedLog('info').log,
      ffmpeg,
      blobs: createLocalBlobStore(dir),
      settings: { concurrency: 1, timeoutMs: 60_000, leaseMs: 30_000, maxAttempts: 3, pollMs: 60_000 },
    });
    return { exports, ffmpeg };
  }

  it('gives back the export it was making when stopped, and resolves stop() only after that', async () => {
    const db = open();
    await seedVideo(db);
    await requestExport(db, KEY, { now: T0, retryFailedAfterMs: 60_000 });
    await requestExport(db, { ...KEY, target: 'wide' }, { now: T0 + 1, retryFailedAfterMs: 60_000 });
    const { exports, ffmpeg } = runner(db);
    exports.start();
    await waitUntil(() => ffmpeg.running() === 1, 10_000, 'ffmpeg to start the first export');
    expect(exports.active()).toBe(1);

    await exports.stop();
    expect(ffmpeg.running()).toBe(0);
    expect(await db.all('SELECT target, state, attempt, locked_by FROM video_exports ORDER BY requestedAt')).toEqual([
      { target: 'clips', state: 'pending', attempt: 1, locked_by: null },
      // One slot: the second export was never claimed.
      { target: 'wide', state: 'pending', attempt: 0, locked_by: null },
    ]);
  });
});
