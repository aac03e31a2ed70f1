import { randomUUID } from 'node:crypto';
import type { BlobStore } from '../blobs/index.ts';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/database.ts';
import { everyPass, type ExclusiveRunner } from '../db/exclusive.ts';
import type { Logger } from '../logger.ts';
import type { BackgroundTask } from '../tasks.ts';
import { claimBlobDeletions, completeBlobDeletion, countQueuedBlobDeletions, releaseBlobDeletion } from './blob-deletions.ts';
import { DAY_MS, dropExportsOfExpiredVideos, expireOldVideos } from './retention.ts';

/**
 * The retention sweep (VIDEO_RETENTION_DAYS): at start and then once a day, expires the videos
 * older than the setting (retention.ts) and deletes the files queued for deletion
 * (blob-deletions.ts) through the blob store, so it works the same on the local disk and on S3.
 *
 * Any number of processes may run it at once: a generation is expired by one conditional
 * UPDATE in one transaction, and each file is deleted by the one sweeper whose claim took it.
 * A delete that fails leaves the key queued (nothing names the file any more) for the next
 * pass. Without a retention setting the sweep still deletes what is queued (files of videos
 * that expired before the setting was removed) and expires nothing.
 */

export interface RetentionSettings {
  /** null: videos are kept forever. */
  days: number | null;
  /** Generations expired and exports dropped per round (and four times as many files deleted); a pass runs rounds until it runs out of work or of rounds. */
  batchSize: number;
  maxRoundsPerPass: number;
  /** Between passes. */
  intervalMs: number;
  /** How often (real time) the task looks at the clock to see whether a pass is due. */
  checkEveryMs: number;
  /** A claim on files lasts this long: a sweeper that dies mid-pass leaves them to a later pass. */
  leaseMs: number;
  /** A failed delete is not tried again before this (the next pass, not the rest of this one). */
  retryAfterMs: number;
}

export const DEFAULT_RETENTION_SETTINGS: Omit<RetentionSettings, 'days'> = {
  batchSize: 100,
  maxRoundsPerPass: 50,
  intervalMs: DAY_MS,
  checkEveryMs: 60_000,
  leaseMs: 10 * 60_000,
  retryAfterMs: 60 * 60_000,
};

export interface RetentionPassReport {
  expired: number;
  deleted: number;
  failed: number;
  /** Keys still queued after the pass (failed ones, or more than the pass's bound). */
  waiting: number;
  /** False when the pass stopped at its bound with work left: the next one comes at the next check, not a day later. */
  complete: boolean;
}

export interface RetentionDeps {
  db: Database;
  clock: Clock;
  log: Logger;
  blobs: Pick<BlobStore, 'delete'>;
  settings: RetentionSettings;
  /** Runs the pass in one process of several (PostgreSQL); every pass runs without one. */
  exclusive?: ExclusiveRunner;
}

/** Files claimed per round: an expired video queues its original, its poster and often an export or two. */
const filesPerRound = (settings: RetentionSettings): number => settings.batchSize * 4;

export class RetentionSweeper implements BackgroundTask {
  readonly name = 'video-retention';
  private readonly log: Logger;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private started = false;
  /** Set by stop(): a pass in flight ends between files. */
  private stopping = false;
  private nextPassAt = 0;
  private passes = 0;

  constructor(private readonly deps: RetentionDeps) {
    this.log = deps.log.child({ mod: 'video-retention' });
  }

  /** Passes finished (or failed) in this process since the start (tests wait on it). */
  get passesDone(): number {
    return this.passes;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.stopping = false;
    this.nextPassAt = 0;
    this.check();
    this.timer = setInterval(() => this.check(), this.deps.settings.checkEveryMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.started = false;
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    // The database may be closed right after: the pass in flight ends first (it stops between files).
    await this.running;
  }

  /** Starts a pass when one is due; passes never overlap in one process. */
  private check(): void {
    if (this.running || !this.started || this.deps.clock.now() < this.nextPassAt) return;
    const started = this.deps.clock.now();
    // One process of several runs the daily pass (db/exclusive.ts); the others look again at
    // their next check, so one of them takes over within a minute when the leader is gone.
    this.running = (this.deps.exclusive ?? everyPass)
      .run(this.name, async () => {
        const report = await this.runPass();
        this.nextPassAt = started + (report.complete ? this.deps.settings.intervalMs : 0);
        if (report.expired + report.deleted + report.failed > 0) this.log.info(report, 'retention pass done');
        this.passes += 1;
      })
      .then(() => undefined)
      .catch((err: unknown) => {
        // A pass that failed (the database was away) is tried again at the next check.
        this.log.error({ err }, 'retention pass failed');
        this.passes += 1;
      })
      .finally(() => {
        this.running = null;
      });
  }

  /** One bounded pass: expire what is due, drop leftover exports, delete queued files. */
  async runPass(): Promise<RetentionPassReport> {
    const { db, clock, settings } = this.deps;
    const report: RetentionPassReport = { expired: 0, deleted: 0, failed: 0, waiting: 0, complete: false };
    for (let round = 0; round < settings.maxRoundsPerPass && !this.stopping; round += 1) {
      const now = clock.now();
      const expired = settings.days === null ? 0 : (await expireOldVideos(db, { now, days: settings.days, limit: settings.batchSize })).generationIds.length;
      const dropped = await dropExportsOfExpiredVideos(db, { now, limit: settings.batchSize });
      const files = await this.deleteQueuedFiles(report);
      report.expired += expired;
      if (expired < settings.batchSize && dropped < settings.batchSize && files < filesPerRound(settings)) {
        report.complete = true;
        break;
      }
    }
    report.waiting = await countQueuedBlobDeletions(db);
    return report;
  }

  /** Claims up to a batch of queued files and deletes each; returns how many it claimed. */
  private async deleteQueuedFiles(report: RetentionPassReport): Promise<number> {
    const { db, clock, blobs, settings } = this.deps;
    const owner = randomUUID();
    const claims = await claimBlobDeletions(db, { owner, now: clock.now(), leaseMs: settings.leaseMs, limit: filesPerRound(settings) });
    for (const claim of claims) {
      // Stopping mid-batch leaves the rest claimed until the lease lapses; a later pass takes them.
      if (this.stopping) break;
      try {
        await blobs.delete(claim.key);
      } catch (err) {
        report.failed += 1;
        this.log.warn({ err, key: claim.key, generationId: claim.generationId, attempts: claim.attempts }, 'deleting an expired file failed; the next pass tries again');
        await releaseBlobDeletion(db, owner, claim.key, { error: err instanceof Error ? err.message : String(err), retryAt: clock.now() + settings.retryAfterMs });
        continue;
      }
      if (await completeBlobDeletion(db, owner, claim.key)) report.deleted += 1;
    }
    return claims.length;
  }
}
