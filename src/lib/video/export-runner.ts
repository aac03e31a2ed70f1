import fs from 'node:fs';
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Database } from '../db/database.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import type { BackgroundTask } from '../tasks.ts';
import { relativeUserFile, resolveStored } from '../storage.ts';
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
  storageDir: string;
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
    const { db, storageDir, settings, ffmpeg } = this.deps;
    const media = await getGenerationMedia(db, claim.generationId);
    if (!media || !hasVideo(media)) throw new ExportFailure('VIDEO_NOT_FOUND', 'the video is gone');
    const target = EXPORT_TARGETS[claim.target];
    const name =
      claim.kind === 'video' ? `${media.generationId}.export.${target.id}.${claim.fit}.mp4` : `${media.generationId}.cover.${target.id}.${claim.fit}.jpg`;
    const relative = relativeUserFile(media.userId, 'videos', name);
    const output = resolveStored(storageDir, relative);
    const part = `${output}.${claim.attempt}.part`;
    try {
      if (claim.kind === 'video') {
        const input = resolveStored(storageDir, media.videoPath);
        const clipMs = media.durationMs ?? (await readMp4Info(input))?.durationMs ?? 0;
        await renderExportVideo(
          ffmpeg,
          { input, output: part, target, fit: claim.fit, clipSeconds: clipMs / 1000, threads: Math.max(1, Math.floor(os.availableParallelism() / settings.concurrency)) },
          { timeoutMs: settings.timeoutMs, signal: this.abort.signal },
        );
      } else {
        const poster = await posterOf(db, storageDir, media);
        if (!poster) throw new ExportFailure('VIDEO_NOT_FOUND', 'no poster or first frame to make a cover from');
        await renderCover(resolveStored(storageDir, poster), part, target, claim.fit);
      }
      await fs.promises.rename(part, output);
      return { path: relative, bytes: (await fs.promises.stat(output)).size };
    } finally {
      await fs.promises.rm(part, { force: true });
    }
  }
}
