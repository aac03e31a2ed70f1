import type { Database } from '../db/database.ts';
import type { Logger } from '../logger.ts';
import type { BackgroundTask } from '../tasks.ts';
import type { Clock } from '../clock.ts';
import { relativeUserFile } from '../storage.ts';
import type { BlobStore } from '../blobs/index.ts';
import { FfmpegError, type Ffmpeg } from './ffmpeg.ts';

/**
 * Poster JPEGs taken from delivered videos, after the generation is already a success: the
 * seller never waits for a poster. Posters run on their own ffmpeg lane (one at a time, its
 * own short timeout), never behind marketplace exports, which may hold every export slot for
 * minutes. Until a poster exists (or if it cannot be taken) the first frame stands in. A
 * process stopped between a success and its poster leaves it to the next start, which takes
 * the posters of recently delivered videos that have none.
 */

export interface DeliveredVideo {
  generationId: string;
  userId: string;
  /** The attempt that delivered the video: a poster is recorded only for it. */
  attempt: number;
  relativePath: string;
}

export interface PosterSettings {
  timeoutMs: number;
  /** Posters waiting or running at most; beyond it a video keeps the first frame as its poster. */
  maxPending: number;
  /** At start, videos delivered this recently without a poster get one (a process stopped in between). */
  catchUpMs: number;
}

export class PosterTaker implements BackgroundTask {
  readonly name = 'video-posters';
  private readonly abort = new AbortController();
  private readonly pending = new Set<Promise<void>>();
  /** The start's search for posters a stopped process left untaken, while it runs. */
  private catchingUp: Promise<void> | null = null;
  private readonly log: Logger;
  private stopped = false;

  constructor(
    private readonly deps: { db: Database; clock: Clock; log: Logger; ffmpeg: Ffmpeg; blobs: BlobStore; settings: PosterSettings },
  ) {
    this.log = deps.log.child({ mod: 'video-posters' });
  }

  /** Starts taking the posters a stopped process left untaken (recent videos delivered without one); returns at once. */
  start(): void {
    if (!this.deps.ffmpeg.available || this.catchingUp) return;
    this.catchingUp = this.takeUntaken().finally(() => (this.catchingUp = null));
  }

  private async takeUntaken(): Promise<void> {
    const { db, clock, settings } = this.deps;
    try {
      // Once per start: the delivered videos (idx_generations_status), the recent ones without a poster.
      const missing = await db.all<{ id: string; userId: string; attempt: number; video_path: string }>(
        `SELECT id, userId, attempt, video_path FROM generations
         WHERE status = 'success' AND completedAt >= ? AND video_path IS NOT NULL AND poster_path IS NULL
         ORDER BY completedAt DESC LIMIT ?`,
        [clock.now() - settings.catchUpMs, settings.maxPending],
      );
      for (const row of missing) this.take({ generationId: row.id, userId: row.userId, attempt: row.attempt, relativePath: row.video_path });
      if (missing.length > 0) this.log.info({ count: missing.length }, 'taking posters left untaken');
    } catch (err) {
      this.log.error({ err }, 'looking for posters left untaken failed');
    }
  }

  /** Starts taking the poster of a delivered video and returns at once; never throws. */
  take(video: DeliveredVideo): void {
    if (this.stopped || !this.deps.ffmpeg.available) return;
    if (this.pending.size >= this.deps.settings.maxPending) {
      this.log.warn({ generationId: video.generationId, pending: this.pending.size }, 'too many posters waiting; the first frame stands in');
      return;
    }
    const job: Promise<void> = this.takeOne(video).finally(() => this.pending.delete(job));
    this.pending.add(job);
  }

  /** Posters waiting or being taken now (the start's search for untaken ones counts as one). */
  waiting(): number {
    return this.pending.size + (this.catchingUp ? 1 : 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    // The start's search first: a poster it queued before the stop is then in `pending`.
    await this.catchingUp;
    await Promise.allSettled([...this.pending]);
  }

  private async takeOne(video: DeliveredVideo): Promise<void> {
    const { db, ffmpeg, blobs, settings } = this.deps;
    // Named by attempt, written under a name of its own: it cannot overwrite another attempt's poster.
    const poster = relativeUserFile(video.userId, 'videos', `${video.generationId}.a${video.attempt}.poster.jpg`);
    try {
      // The first decoded frame: MiniMax starts from the seller's (cropped) photo.
      const take = (input: string, output: string) =>
        ffmpeg.run(['-i', input, '-frames:v', '1', '-q:v', '3', '-f', 'image2', output], { timeoutMs: settings.timeoutMs, signal: this.abort.signal });
      await blobs.withLocalFile(video.relativePath, (input) => blobs.putMadeFile(poster, (output) => take(input, output), { contentType: 'image/jpeg' }));
      const recorded = await db.run(`UPDATE generations SET poster_path = ? WHERE id = ? AND attempt = ? AND status = 'success' AND video_path = ?`, [
        poster,
        video.generationId,
        video.attempt,
        video.relativePath,
      ]);
      if (recorded.changes === 0) {
        // A newer attempt or another file is on record now: this poster is of nothing shown.
        await blobs.delete(poster);
        this.log.info({ generationId: video.generationId, attempt: video.attempt }, 'poster dropped: the video on record changed');
      }
    } catch (err) {
      this.log.warn(
        { err, generationId: video.generationId, code: err instanceof FfmpegError ? err.code : undefined },
        'no poster taken; the first frame stands in',
      );
    }
  }
}
