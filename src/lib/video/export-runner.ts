import os from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Database } from '../db/database.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import type { BackgroundTask } from '../tasks.ts';
import { relativeUserFile } from '../storage.ts';
import type { BlobStore } from '../blobs/index.ts';
import { claimExport, extendExportLease, failExport, finishExport, releaseExport, type ExportClaim } from './export-store.ts';
import { renderCover, renderExportVideo } from './export-render.ts';
import { FfmpegError, type Ffmpeg } from './ffmpeg.ts';
import { EXPORT_TARGETS } from './formats.ts';
import { getGenerationMedia, hasVideo, posterOf } from './media.ts';
import { readMp4Info } from './mp4-info.ts';

/**
 * Makes exports off the request path: each process runs this task, which claims pending
 * exports from the database (at most `concurrency` at once) and runs ffmpeg for them with a
 * timeout, keeping the lease alive meanwhile. Requests only add rows and wake it.
 */

export interface ExportSettings {
  concurrency: number;
  timeoutMs: number;
  leaseMs: number;
  maxAttempts: number;
  /** How often the table is looked at for work other processes queued. */
  pollMs: number;
}

export interface ExportRunnerDeps {
  db: Database;
  clock: Clock;
  log: Logger;
  ffmpeg: Ffmpeg;
  /** The original and poster are read from it, the export is stored in it. */
  blobs: BlobStore;
  settings: ExportSettings;
}

class ExportFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class ExportRunner implements BackgroundTask {
  readonly name = 'video-exports';
  readonly workerId = `${os.hostname()}:${process.pid}:exp-${randomBytes(3).toString('hex')}`;
  private readonly running = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | null = null;
  /** The claim pass in flight: one at a time, or two would both see a free slot and overfill it. */
  private claiming: Promise<void> | null = null;
  /** Woken while a pass was claiming: look again as soon as it ends. */
  private wokenWhileClaiming = false;
  private started = false;
  private stopping = false;
  private readonly log: Logger;

  constructor(private readonly deps: ExportRunnerDeps) {
    this.log = deps.log.child({ mod: 'exports', worker: this.workerId });
  }

  start(): void {
    if (this.started || !this.deps.ffmpeg.available) return;
    this.started = true;
    this.wake();
  }

  /** Look for work now (a request just queued an export). */
  wake(): void {
    if (!this.started || this.stopping) return;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.abort.abort();
    // The pass first: an export it claims while stopping is given back, one it started is in `running`.
    await this.claiming;
    await Promise.allSettled([...this.running]);
  }

  /** Exports being made by this process now. */
  active(): number {
    return this.running.size;
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), ms);
    this.timer.unref();
  }

  private tick(): void {
    this.timer = null;
    if (this.claiming) {
      this.wokenWhileClaiming = true;
      return;
    }
    this.claiming = this.claimPass().finally(() => {
      this.claiming = null;
      const again = this.wokenWhileClaiming;
      this.wokenWhileClaiming = false;
      if (this.stopping) return;
      if (again) this.schedule(0);
      // A wake during the pass whose timer has not fired yet already set the next look.
      else if (!this.timer) this.schedule(this.deps.settings.pollMs);
    });
  }

  /** Claims exports while slots are free; never rejects (a failed claim is logged, the poll tries again). */
  private async claimPass(): Promise<void> {
    const { db, clock, settings } = this.deps;
    try {
      while (!this.stopping && this.running.size < settings.concurrency) {
        const claim = await claimExport(db, {
          workerId: this.workerId,
          now: clock.now(),
          leaseMs: settings.leaseMs,
          maxAttempts: settings.maxAttempts,
        });
        if (!claim) break;
        if (this.stopping) {
          // Stopped while the claim was on its way: give it back at once rather than let it wait for the lease.
          await releaseExport(db, claim, clock.now());
          break;
        }
        const run = this.run(claim)
          .catch((err: unknown) => this.log.error({ err, exportId: claim.id }, 'recording an export outcome failed'))
          .finally(() => {
            this.running.delete(run);
            this.wake();
          });
        this.running.add(run);
      }
    } catch (err) {
      this.log.error({ err }, 'claiming exports failed');
    }
  }

  private async run(claim: ExportClaim): Promise<void> {
    const { db, clock, settings } = this.deps;
    const log = this.log.child({ exportId: claim.id, generationId: claim.generationId, target: claim.target, fit: claim.fit, kind: claim.kind });
    const heartbeat = setInterval(() => {
      extendExportLease(db, claim, clock.now() + settings.leaseMs).catch((err: unknown) => log.warn({ err }, 'export lease extension failed'));
    }, Math.max(50, Math.floor(settings.leaseMs / 3)));
    heartbeat.unref();
    const started = clock.now();
    try {
      const file = await this.make(claim);
      if (await finishExport(db, claim, file, clock.now())) log.info({ bytes: file.bytes, ms: clock.now() - started }, 'export made');
      else log.warn('export finished after its claim was lost');
    } catch (err) {
      if (err instanceof FfmpegError && err.code === 'FFMPEG_ABORTED') {
        await releaseExport(db, claim, clock.now());
        return;
      }
      const code = err instanceof ExportFailure ? err.code : err instanceof FfmpegError && err.code === 'FFMPEG_TIMEOUT' ? 'EXPORT_TIMEOUT' : 'EXPORT_FAILED';
      await failExport(db, claim, { code, message: err instanceof Error ? err.message : String(err) }, clock.now());
      log.error({ err, code }, 'export failed');
    } finally {
      clearInterval(heartbeat);
    }
  }

  private async make(claim: ExportClaim): Promise<{ path: string; bytes: number }> {
    const { db, blobs, settings, ffmpeg } = this.deps;
    const media = await getGenerationMedia(db, claim.generationId);
    if (!media || !hasVideo(media)) throw new ExportFailure('VIDEO_NOT_FOUND', 'the video is gone');
    const target = EXPORT_TARGETS[claim.target];
    const name =
      claim.kind === 'video' ? `${media.generationId}.export.${target.id}.${claim.fit}.mp4` : `${media.generationId}.cover.${target.id}.${claim.fit}.jpg`;
    const relative = relativeUserFile(media.userId, 'videos', name);
    // ffmpeg and sharp read local files: the stored file itself on disk, a copy from a bucket.
    if (claim.kind === 'video') {
      const { videoPath, durationMs } = media;
      const { info } = await blobs.withLocalFile(videoPath, async (input) => {
        const clipMs = durationMs ?? (await readMp4Info(input))?.durationMs ?? 0;
        const threads = Math.max(1, Math.floor(os.availableParallelism() / settings.concurrency));
        return blobs.putMadeFile(
          relative,
          (output) => renderExportVideo(ffmpeg, { input, output, target, fit: claim.fit, clipSeconds: clipMs / 1000, threads }, { timeoutMs: settings.timeoutMs, signal: this.abort.signal }),
          { contentType: 'video/mp4' },
        );
      });
      return { path: relative, bytes: info.size };
    }
    const poster = await posterOf(db, blobs, media);
    if (!poster) throw new ExportFailure('VIDEO_NOT_FOUND', 'no poster or first frame to make a cover from');
    const { info } = await blobs.withLocalFile(poster, (image) =>
      blobs.putMadeFile(relative, (output) => renderCover(image, output, target, claim.fit), { contentType: 'image/jpeg' }),
    );
    return { path: relative, bytes: info.size };
  }
}
