import os from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Config } from '../config.ts';
import type { BackgroundTask } from '../tasks.ts';
import type { Database } from '../db/database.ts';
import { everyPass, type ExclusiveRunner } from '../db/exclusive.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import type { Notifier, AlertStage } from '../notify/types.ts';
import type { PromptEngine } from '../prompt/types.ts';
import { imageDataUrl, type MinimaxClient } from '../providers/minimax/client.ts';
import { isMinimaxError } from '../providers/minimax/errors.ts';
import { relativeUserFile } from '../storage.ts';
import { BlobStoreError, isBlobNotFound, readBlobBytes, type BlobStore } from '../blobs/index.ts';
import { DownloadError, downloadVideo } from './download.ts';
import {
  claimGeneration,
  countInFlight,
  extendLease,
  failGeneration,
  findExpiredWatches,
  findStuckGenerations,
  listLeaseHolders,
  markDownloadReady,
  markGenerationSucceeded,
  markSubmitStarted,
  markSubmitted,
  nextDueAt,
  releaseClaim,
  releaseLeasesOf,
  savePreparedPrompt,
  schedulePoll,
  scheduleRetry,
  stopWatching,
  type Lane,
  type QueuedGeneration,
} from './queue.ts';
import { recordGenerationEvent } from './events.ts';
import type { VideoHooks } from '../video/worker-hooks.ts';
import { MAX_FRAME_BYTES } from '../video/first-frame.ts';
import { alertStageForStep, backoffDelay, latePollDelay } from './transitions.ts';

/**
 * The generation worker: a background task that moves generations through
 * prepare → submit → poll → download, one lane per step, each with its own number of
 * slots. State lives only in the database, so a restart at any point resumes from it.
 *
 * - Leases are extended while a step runs (a 500 MB download outlives one lease).
 * - Every failure is classified: retryable → backoff with jitter (up to QUEUE_MAX_ATTEMPTS,
 *   except polls, which the stuck limit bounds); otherwise the generation fails at once,
 *   is refunded exactly once and the operator is alerted.
 * - A sweep (at start and every QUEUE_SWEEP_INTERVAL_MS) releases leases of crashed
 *   processes on this host and fails generations processing longer than STUCK_AFTER_MS.
 */

export interface GenerationWorkerDeps {
  db: Database;
  config: Config;
  log: Logger;
  clock: Clock;
  minimax: MinimaxClient;
  promptEngine: PromptEngine;
  notifier: Notifier;
  /** Where the video is saved and the photo read (the frame comes through `video`). */
  blobs: BlobStore;
  /** The first frame in the seller's format, and the facts of a saved video (poster, size). */
  video?: VideoHooks;
  random?: () => number;
  /** Runs the stuck detector once across processes (db/exclusive.ts); without it, every sweep runs it. */
  exclusive?: ExclusiveRunner;
}

/** A failure decided by us (not MiniMax, not the network), with its own code. */
export class StepFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryable = false,
    readonly taskFailed = false,
  ) {
    super(message);
    this.name = 'StepFailure';
  }
}

interface Classified {
  code: string;
  message: string;
  retryable: boolean;
  taskFailed: boolean;
}

function classify(err: unknown): Classified {
  if (isMinimaxError(err)) return { code: err.code, message: err.message, retryable: err.retryable, taskFailed: false };
  if (err instanceof DownloadError) return { code: err.code, message: err.message, retryable: err.retryable, taskFailed: false };
  if (err instanceof StepFailure) return { code: err.code, message: err.message, retryable: err.retryable, taskFailed: err.taskFailed };
  // The store failed after its own retries (or a blob is refused): the step is tried again later, like a network failure.
  if (err instanceof BlobStoreError) return { code: 'STORAGE_FAILED', message: err.message, retryable: err.code !== 'BLOB_TOO_LARGE' && err.code !== 'BLOB_KEY_INVALID', taskFailed: false };
  return { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err), retryable: true, taskFailed: false };
}

const POLL_SLOTS = 4;
const DOWNLOAD_SLOTS = 2;

/**
 * Ids of the workers running in this process. A lease holder with our own pid that is not
 * one of them is a previous life of this process: in a container node is pid 1 after every
 * restart, so the pid alone cannot tell a crashed predecessor from ourselves.
 */
const workersInThisProcess = new Set<string>();

export class GenerationWorker implements BackgroundTask {
  readonly name = 'generation-worker';
  readonly workerId = `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  protected readonly log: Logger;
  protected readonly running = new Map<Lane, Set<Promise<void>>>();
  private readonly abort = new AbortController();
  private tickTimer: NodeJS.Timeout | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;
  /** The pass that is claiming work now: passes never overlap, so lanes never take more than their slots. */
  private ticking: Promise<void> | null = null;
  /** A wake-up arrived during a pass: another pass follows it at once. */
  private tickAgain = false;
  private sweeping: Promise<void> | null = null;
  protected started = false;
  protected stopping = false;

  constructor(protected readonly deps: GenerationWorkerDeps) {
    this.log = deps.log.child({ mod: 'worker', worker: this.workerId });
    for (const lane of ['prepare', 'submit', 'poll', 'download', 'late'] as Lane[]) this.running.set(lane, new Set());
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    workersInThisProcess.add(this.workerId);
    void this.sweep({ boot: true });
    const sweepEvery = this.deps.config.queue.sweepIntervalMs;
    this.sweepTimer = setInterval(() => {
      // A sweep still running (a slow database) is not doubled: the next interval tries again.
      if (!this.sweeping) void this.sweep({ boot: false });
    }, sweepEvery);
    this.sweepTimer.unref();
    this.wake();
  }

  /** Look for work now (a new generation, a callback, a finished step); here the whole table is looked at, whichever `generationId`. */
  wake(_generationId?: string): void {
    this.schedule(0);
  }

  /**
   * Called inside the transaction that accepts a generation (create.ts). Here the row is the
   * queue: the claim loop finds it, nothing more to write. The pg-boss worker sends a job.
   */
  async enqueue(_tx: Database, _generationId: string): Promise<void> {}

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.tickTimer) clearTimeout(this.tickTimer);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    const inFlight = () => [...this.running.values()].flatMap((set) => [...set]);
    // Steps finish on their own; long ones (downloads) are cut short before the server's
    // own shutdown deadline and their rows are released for the next start.
    const grace = Math.max(0, this.deps.config.server.shutdownTimeoutMs - 2_000);
    const timer = setTimeout(() => this.abort.abort(), grace);
    // A pass that is claiming MUST end first: the steps it starts are only in `running` then.
    await Promise.allSettled([this.ticking, this.sweeping]);
    await Promise.allSettled(inFlight());
    clearTimeout(timer);
    workersInThisProcess.delete(this.workerId);
  }

  /** Steps running now, per lane (the `beem_worker_active_steps` metric). */
  activeSteps(): Record<Lane, number> {
    const out = {} as Record<Lane, number>;
    for (const [lane, set] of this.running) out[lane] = set.size;
    return out;
  }

  private schedule(delayMs: number): void {
    if (this.stopping || !this.started) return;
    if (this.tickTimer) clearTimeout(this.tickTimer);
    this.tickTimer = setTimeout(() => this.startTick(), delayMs);
    this.tickTimer.unref();
  }

  private startTick(): void {
    this.tickTimer = null;
    if (this.ticking) {
      this.tickAgain = true;
      return;
    }
    this.ticking = this.tick()
      .catch((err: unknown) => this.log.error({ err }, 'worker pass failed'))
      .finally(() => {
        this.ticking = null;
        if (this.tickAgain) {
          this.tickAgain = false;
          this.schedule(0);
        }
      });
  }

  protected slots(lane: Lane): number {
    const { concurrency } = this.deps.config.queue;
    switch (lane) {
      case 'prepare':
      case 'submit':
        return concurrency;
      case 'poll':
        return POLL_SLOTS;
      case 'download':
        return DOWNLOAD_SLOTS;
      case 'late':
        return 1;
    }
  }

  private async tick(): Promise<void> {
    const idleMs = Math.min(this.deps.config.queue.pollIntervalMs, 1_000);
    let nextDue: number | null = null;
    try {
      for (const lane of this.running.keys()) await this.fill(lane);
      nextDue = await nextDueAt(this.deps.db);
    } catch (err) {
      this.log.error({ err }, 'claiming work failed');
    }
    // Sleep until the next retry or poll is due, never longer than the idle tick. Work that
    // is due already is waiting for a slot: a finishing step wakes the worker for it.
    const untilDue = nextDue === null ? idleMs : nextDue - this.deps.clock.now();
    this.schedule(untilDue > 0 ? Math.max(5, Math.min(untilDue, idleMs)) : idleMs);
  }

  private async fill(lane: Lane): Promise<void> {
    const active = this.running.get(lane)!;
    const { db, clock, config } = this.deps;
    while (!this.stopping && active.size < this.slots(lane)) {
      if (lane === 'submit' && (await countInFlight(db)) + active.size >= config.queue.maxInFlight) return;
      const claim = await claimGeneration(db, { lane, now: clock.now(), leaseMs: config.queue.leaseMs, workerId: this.workerId });
      if (!claim) return;
      if (this.stopping) {
        // Stopped while the claim was being taken: give the row back rather than start a step.
        await releaseClaim(db, claim, clock.now());
        return;
      }
      const run = this.runStep(lane, claim).finally(() => {
        active.delete(run);
        this.wake();
      });
      active.add(run);
    }
  }

  protected async runStep(lane: Lane, g: QueuedGeneration): Promise<void> {
    const { db, clock, config } = this.deps;
    // Keep the lease while the step runs, so nobody else takes the row meanwhile (extendLease
    // says how it is fenced). One extension at a time; the last one is awaited before the step
    // counts as done, so none is left running against a closed database.
    let beat: Promise<void> | null = null;
    const heartbeat = setInterval(() => {
      if (beat) return;
      beat = extendLease(db, g, this.workerId, clock.now() + config.queue.leaseMs)
        .then(
          () => undefined,
          (err: unknown) => this.log.warn({ err, generationId: g.id }, 'lease extension failed'),
        )
        .finally(() => {
          beat = null;
        });
    }, Math.max(50, Math.floor(config.queue.leaseMs / 3)));
    heartbeat.unref();
    try {
      if (lane === 'prepare') await this.prepare(g);
      else if (lane === 'submit') await this.submit(g);
      else if (g.step === 'poll') await this.poll(g);
      else if (g.step === 'download') await this.download(g);
    } catch (err) {
      await this.settleError(g, err);
    } finally {
      clearInterval(heartbeat);
      await beat;
    }
  }

  private async prepare(g: QueuedGeneration): Promise<void> {
    const prepared = await this.deps.promptEngine.prepare({
      mode: g.mode,
      prompt: g.prompt,
      duration: g.duration,
      userId: g.userId,
      generationId: g.id,
    });
    if (!(await savePreparedPrompt(this.deps.db, g, prepared, this.deps.clock.now()))) this.lostClaim(g, 'prepare');
  }

  private async submit(g: QueuedGeneration): Promise<void> {
    const { db, clock, config, minimax } = this.deps;
    if (g.submitStartedAt !== null) {
      // The previous attempt may have reached MiniMax before the crash; MiniMax has no
      // idempotency key, so a second task may be created (we still charge only once).
      this.log.warn({ generationId: g.id }, 'submitting again after an interrupted submission');
      await recordGenerationEvent(db, g.id, { kind: 'resubmit', attempt: g.attempt, detail: 'previous submission was interrupted', now: clock.now() });
    }
    if (!(await markSubmitStarted(db, g, clock.now()))) return this.lostClaim(g, 'submit');
    const image = await this.readImage(g);
    const template = g.template;
    const callbackUrl = config.minimax.callbackUrl;
    const { taskId } = template
      ? await minimax.createTemplateTask({
          templateId: template.templateId,
          mediaInputs: template.usesImage ? [image] : [],
          textInputs: template.textInputs,
          callbackUrl,
        })
      : await minimax.createVideoTask({
          model: config.minimax.model,
          prompt: g.promptFinal ?? g.prompt,
          firstFrameImage: image,
          duration: g.duration,
          resolution: config.minimax.resolution,
          callbackUrl,
        });
    const now = clock.now();
    const stored = await markSubmitted(
      db,
      g,
      {
        jobId: taskId,
        model: template ? null : config.minimax.model,
        resolution: template ? null : config.minimax.resolution,
        nextPollAt: now + config.queue.pollIntervalMs,
      },
      now,
    );
    if (!stored) return this.lostClaim(g, 'submit');
    this.log.info({ generationId: g.id, taskId, template: template?.templateId ?? null }, 'submitted to MiniMax');
  }

  private async poll(g: QueuedGeneration): Promise<void> {
    const { db, clock, config, minimax } = this.deps;
    if (!g.jobId) throw new StepFailure('INTERNAL', 'processing generation without a MiniMax task id');
    const askedAt = clock.now();
    const status = g.template ? await minimax.queryTemplateTask(g.jobId) : await minimax.queryVideoTask(g.jobId);
    const now = clock.now();
    if (status.state === 'success') {
      const fileId = 'fileId' in status ? status.fileId : null;
      const width = 'width' in status ? status.width : null;
      const height = 'height' in status ? status.height : null;
      if (!(await markDownloadReady(db, g, { fileId, width, height }, now))) return this.lostClaim(g, 'poll');
      return;
    }
    if (status.state === 'fail') {
      if (g.status === 'failed') {
        await stopWatching(db, g.id, g.attempt, `MiniMax failed the task late (${status.failureCode})`, now);
        return;
      }
      throw new StepFailure(status.failureCode ?? 'TASK_FAILED', 'MiniMax reported the task as failed', false, true);
    }
    const pause =
      g.status === 'failed' ? latePollDelay(now - (g.completedAt ?? now), config.queue.pollIntervalMs) : config.queue.pollIntervalMs;
    if (!(await schedulePoll(db, g, { minimaxStatus: status.state, askedAt, nextAt: now + pause }, now))) this.lostClaim(g, 'poll');
  }

  private async download(g: QueuedGeneration): Promise<void> {
    const { db, clock, config, minimax } = this.deps;
    if (!g.jobId) throw new StepFailure('INTERNAL', 'download without a MiniMax task id');
    // Always a fresh URL from MiniMax's API with our key: signed URLs expire (1 h / 9 h).
    let url: string;
    if (g.template) {
      const status = await minimax.queryTemplateTask(g.jobId);
      if (status.state !== 'success' || !status.videoUrl) {
        throw new StepFailure('BAD_RESPONSE', `template task is ${status.state} at download time`, true);
      }
      url = status.videoUrl;
    } else {
      if (!g.fileId) throw new StepFailure('INTERNAL', 'download without a MiniMax file id');
      url = (await minimax.retrieveFile(g.fileId)).downloadUrl;
    }
    const relativePath = relativeUserFile(g.userId, 'videos', `${g.id}.mp4`);
    // Stored whole before the success below: a generation is never "succeeded" without its file.
    const { bytes } = await downloadVideo({
      url,
      store: this.deps.blobs,
      key: relativePath,
      allowedHosts: config.minimax.downloadHosts,
      maxBytes: config.minimax.maxVideoBytes,
      timeoutMs: config.minimax.downloadTimeoutMs,
      signal: this.abort.signal,
    });
    await this.deps.video?.videoSaved({ generationId: g.id, relativePath });
    if (!(await markGenerationSucceeded(db, g, { relativePath, bytes }, clock.now()))) return this.lostClaim(g, 'download');
    this.log.info({ generationId: g.id, bytes, free: g.refunded }, 'video delivered');
    // After the success, not before it: the seller never waits for a poster.
    await this.deps.video?.videoDelivered({ generationId: g.id, userId: g.userId, attempt: g.attempt, relativePath });
  }

  private async readImage(g: QueuedGeneration): Promise<string> {
    if (!g.imagePath) throw new StepFailure('IMAGE_MISSING', 'generation has no image');
    try {
      // The photo cut to the seller's format (the photo itself for `original` and templates).
      const frame = (await this.deps.video?.firstFrame(g.id)) ?? null;
      return imageDataUrl(frame ?? (await readBlobBytes(this.deps.blobs, g.imagePath, MAX_FRAME_BYTES)));
    } catch (err) {
      if (isBlobNotFound(err)) throw new StepFailure('IMAGE_MISSING', 'the uploaded photo file is gone');
      throw err;
    }
  }

  private lostClaim(g: QueuedGeneration, step: string): void {
    this.log.warn({ generationId: g.id, attempt: g.attempt, step }, 'claim was lost before the step settled');
  }

  /** Never rejects: what cannot be recorded is left to the lease running out. */
  private async settleError(g: QueuedGeneration, err: unknown): Promise<void> {
    const { db, clock, config } = this.deps;
    const now = clock.now();
    const failure = classify(err);
    const stage = alertStageForStep(g.step, failure.taskFailed);
    const error = { stage, code: failure.code, message: failure.message };
    const log = this.log.child({ generationId: g.id, step: g.step, attempt: g.attempt, code: failure.code });
    try {
      if (err instanceof DownloadError && err.code === 'DOWNLOAD_ABORTED') {
        await releaseClaim(db, g, now);
        return;
      }
      if (g.status === 'failed') {
        // Watching a stuck generation for a late success: keep trying quietly until the window ends.
        const delay = Math.max(config.queue.pollIntervalMs, backoffDelay(g.retryCount + 1, this.backoff(), this.random()));
        await scheduleRetry(db, g, error, delay, now);
        log.warn({ err }, 'late check failed');
        return;
      }
      const budgetLeft = g.step === 'poll' || g.retryCount + 1 < config.queue.maxAttempts;
      if (failure.retryable && budgetLeft) {
        const delay = backoffDelay(g.retryCount + 1, this.backoff(), this.random());
        await scheduleRetry(db, g, error, delay, now);
        log.warn({ err, delay }, 'step failed, will retry');
        return;
      }
      if (await failGeneration(db, g.id, { ...error, attempt: g.attempt, keepWatching: false }, now)) {
        log.error({ err }, 'generation failed and was refunded');
        this.alert(stage, g, `${failure.code}: ${failure.message}`);
      } else {
        this.lostClaim(g, g.step);
      }
    } catch (settleErr) {
      // The lease runs out and the step is tried again; nothing is lost.
      log.error({ err: settleErr, cause: err }, 'could not record the step failure');
    }
  }

  private backoff() {
    return { baseMs: this.deps.config.queue.backoffBaseMs, maxMs: this.deps.config.queue.backoffMaxMs };
  }

  private random(): () => number {
    return this.deps.random ?? Math.random;
  }

  private alert(stage: AlertStage, g: Pick<QueuedGeneration, 'id' | 'userId'> | null, error: string): void {
    try {
      this.deps.notifier.alert({ stage, error, userId: g?.userId ?? null, generationId: g?.id ?? null });
    } catch (err) {
      this.log.error({ err }, 'alert failed');
    }
  }

  /**
   * Fails generations processing longer than STUCK_AFTER_MS (refunded once, operator alerted),
   * still watching them for a late success. Returns the ids it failed. The sweep runs it;
   * so does the operator shell (`generations:fail-stuck`).
   */
  async failStuck(now: number): Promise<string[]> {
    const { db, config } = this.deps;
    const failedIds: string[] = [];
    for (const g of await findStuckGenerations(db, now, config.queue.stuckAfterMs)) {
      const failed = await failGeneration(
        db,
        g.id,
        {
          stage: 'STUCK_GENERATION',
          code: 'STUCK',
          message: `no result from MiniMax after ${Math.round((now - (g.submittedAt ?? g.createdAt)) / 1000)} s`,
          attempt: null,
          keepWatching: config.queue.lateWatchMs > 0,
          nextWatchAt: now + config.queue.pollIntervalMs,
        },
        now,
      );
      if (failed) {
        failedIds.push(g.id);
        this.log.error({ generationId: g.id, taskId: g.jobId }, 'generation stuck: failed and refunded');
        this.alert('STUCK_GENERATION', g, `MiniMax task ${g.jobId ?? '?'} has no result after ${Math.round(config.queue.stuckAfterMs / 60_000)} min; credits refunded`);
      }
    }
    return failedIds;
  }

  /**
   * Releases leases of dead processes and fails generations stuck at MiniMax. Never rejects;
   * a sweep asked for while one runs waits for that one instead of running beside it.
   */
  sweep(options: { boot: boolean }): Promise<void> {
    if (this.sweeping) return this.sweeping;
    this.sweeping = this.sweepOnce(options).finally(() => {
      this.sweeping = null;
    });
    return this.sweeping;
  }

  private async sweepOnce(options: { boot: boolean }): Promise<void> {
    const { db, clock, config } = this.deps;
    const now = clock.now();
    try {
      const dead = (await listLeaseHolders(db)).filter((holder) => holder !== this.workerId && isDeadLocalHolder(holder));
      const released = await releaseLeasesOf(db, dead, now);
      if (released > 0) this.log.warn({ released, holders: dead }, 'released leases of a stopped process');

      const shared = async () => {
        await this.failStuck(now);
        for (const id of await findExpiredWatches(db, now, config.queue.lateWatchMs)) {
          await stopWatching(db, id, null, 'late-delivery window passed', now);
        }
      };
      // Once across processes: two sweeps would both find the same stuck rows (the guarded
      // failGeneration refunds once either way, but the second pass is wasted work).
      await (this.deps.exclusive ?? everyPass).run('generation-sweep', shared);
    } catch (err) {
      this.log.error({ err, boot: options.boot }, 'queue sweep failed');
      this.alert('QUEUE_PROCESSOR', null, `queue sweep failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (!options.boot) this.wake();
  }
}

/** A lease holder `host:pid:tag` of this host whose process (or previous life of ours) no longer exists. */
export function isDeadLocalHolder(holder: string): boolean {
  const [host, pidText] = holder.split(':');
  if (host !== os.hostname()) return false;
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return !workersInThisProcess.has(holder);
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
