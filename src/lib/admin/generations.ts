import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { MinimaxClient } from '../providers/minimax/client.ts';
import type { Database } from '../db/database.ts';
import { AppError, badRequest } from '../errors.ts';
import { BlobStoreError, type BlobStore } from '../blobs/index.ts';
import { listGenerationEvents, type GenerationEvent } from '../generation/events.ts';
import { failGeneration, makeGenerationDue, refundGenerationManually } from '../generation/queue.ts';
import { retriedGenerationOf, retryGeneration, retryOfKey, type GenerationDispatch } from '../generation/create.ts';
import { readRow, type RowReader } from '../db/row.ts';
import { DURATIONS, GENERATION_MODES, GENERATION_STATUSES, GENERATION_STEPS, type GenerationStatus, type GenerationStep } from '../model.ts';
import { isMinimaxError } from '../providers/minimax/errors.ts';
import { auditedAction, listAudit, optionalReason, recordAdminAction, requireReason, type Actor, type AuditEntry } from './audit.ts';
import { likePattern } from './users.ts';
import { expiryOf, type VideoExpiry } from '../video/retention.ts';

/**
 * Generations as admins see them (every prompt stage, the MiniMax task, the history) and
 * the operator's actions on them. State and money change only through the pipeline's own
 * guarded functions (`failGeneration`, `refundGenerationManually`, `retryGeneration`,
 * `makeGenerationDue`); this module adds the audit row, in the same transaction.
 */

export interface AdminGenerationsDeps {
  db: Database;
  clock: Clock;
  config: Config;
  log: Logger;
  /** The retried generation's photo must still be stored. */
  blobs: BlobStore;
  minimax: Pick<MinimaxClient, 'queryVideoTask' | 'queryTemplateTask'>;
  /** The worker is woken after a change so it acts at once, not at its next tick. */
  generationWorker: GenerationDispatch & { wake(generationId?: string): void; failStuck(now: number): Promise<string[]> };
}

export interface GenerationFilter {
  status?: string | null;
  mode?: string | null;
  /** A user id, or part of an email. */
  user?: string | null;
  /** Epoch ms, inclusive. */
  from?: number | null;
  /** Epoch ms, exclusive. */
  to?: number | null;
  limit?: number;
  offset?: number;
}

export interface AdminGenerationLine {
  id: string;
  userId: string;
  userEmail: string;
  status: string;
  step: string;
  mode: string;
  duration: number;
  cost: number;
  charged: boolean;
  refunded: boolean;
  /** Worker passes (every claim: a step, a poll, the download); not a count of failures. */
  attempt: number;
  /** Retries after retryable errors, over every step (the `retry` events). */
  retries: number;
  errorStage: string | null;
  errorCode: string | null;
  jobId: string | null;
  createdAt: number;
  completedAt: number | null;
  /** Set when the retention sweep deleted the video's files. */
  expiry: VideoExpiry | null;
}

const RETRIES = `(SELECT COUNT(*) FROM generation_events e WHERE e.generationId = g.id AND e.kind = 'retry') AS retries`;

/** A `generations` row joined with its owner's email and retry count, read through the checked reader. */
function toLine(r: RowReader): AdminGenerationLine {
  return {
    id: r.text('id'),
    userId: r.text('userId'),
    userEmail: r.text('email'),
    status: r.oneOf('status', GENERATION_STATUSES),
    step: r.oneOf('step', GENERATION_STEPS),
    mode: r.oneOf('generation_mode', GENERATION_MODES),
    duration: r.oneOf('duration', DURATIONS),
    cost: r.int('cost'),
    charged: r.flag('charged'),
    refunded: r.flag('refunded'),
    attempt: r.int('attempt'),
    retries: r.int('retries'),
    errorStage: r.textOrNull('error_stage'),
    errorCode: r.textOrNull('error_code'),
    jobId: r.textOrNull('minimax_job_id'),
    createdAt: r.int('createdAt'),
    completedAt: r.intOrNull('completedAt'),
    expiry: expiryOf(r),
  };
}

export async function listGenerations(db: Database, filter: GenerationFilter = {}): Promise<{ generations: AdminGenerationLine[]; total: number }> {
  const where: string[] = [];
  const params: Record<string, unknown> = {};
  if (filter.status) {
    where.push('g.status = @status');
    params.status = filter.status;
  }
  if (filter.mode) {
    where.push('g.generation_mode = @mode');
    params.mode = filter.mode;
  }
  const user = filter.user?.trim();
  if (user) {
    where.push(`(g.userId = @userExact OR lower(u.email) LIKE @userLike ESCAPE '\\')`);
    params.userExact = user;
    params.userLike = likePattern(user.toLowerCase());
  }
  if (filter.from) {
    where.push('g.createdAt >= @from');
    params.from = filter.from;
  }
  if (filter.to) {
    where.push('g.createdAt < @to');
    params.to = filter.to;
  }
  const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const total = (await db.value<number>(`SELECT COUNT(*) FROM generations g JOIN users u ON u.id = g.userId ${clause}`, params))!;
  const rows = await db.all(
    `SELECT g.id, g.userId, u.email, g.status, g.step, g.generation_mode, g.duration, g.cost, g.charged, g.refunded,
            g.attempt, ${RETRIES}, g.error_stage, g.error_code, g.minimax_job_id, g.createdAt, g.completedAt,
            g.expiredAt, g.retention_days
     FROM generations g JOIN users u ON u.id = g.userId ${clause}
     ORDER BY g.createdAt DESC, g.id DESC LIMIT @limit OFFSET @offset`,
    { ...params, limit: Math.max(1, Math.min(filter.limit ?? 100, 500)), offset: Math.max(0, filter.offset ?? 0) },
  );
  return { generations: rows.map((row) => toLine(readRow('generations', row))), total };
}

export interface GenerationDetail extends AdminGenerationLine {
  prompt: string | null;
  promptCinematic: string | null;
  promptDirector: string | null;
  promptFinal: string | null;
  cameraCommands: string | null;
  templateId: string | null;
  templateName: string | null;
  templateInputs: string | null;
  minimaxFinalPrompt: string | null;
  minimaxStatus: string | null;
  fileId: string | null;
  model: string | null;
  resolution: string | null;
  uploadId: string | null;
  hasVideo: boolean;
  videoBytes: number | null;
  retryCount: number;
  nextAttemptAt: number;
  lockedUntil: number | null;
  lockedBy: string | null;
  lastPolledAt: number | null;
  lastCallbackAt: number | null;
  submittedAt: number | null;
  errorMessage: string | null;
  updatedAt: number;
  /** The prompt preview it was made from (issue 16): its prompt was shown and sent as is. */
  previewId: string | null;
  /** The generation this one retries, and the retry of this one, if any. */
  retryOf: string | null;
  retriedAs: string | null;
  events: GenerationEvent[];
  audit: AuditEntry[];
}

export async function getGenerationDetail(db: Database, id: string): Promise<GenerationDetail | null> {
  const row = await db.get(`SELECT g.*, u.email, ${RETRIES} FROM generations g JOIN users u ON u.id = g.userId WHERE g.id = ?`, [id]);
  if (!row) return null;
  const r = readRow('generations', row);
  return {
    ...toLine(r),
    prompt: r.textOrNull('prompt'),
    promptCinematic: r.textOrNull('prompt_cinematic'),
    promptDirector: r.textOrNull('prompt_director'),
    promptFinal: r.textOrNull('prompt_final'),
    cameraCommands: r.textOrNull('camera_commands'),
    templateId: r.textOrNull('minimax_template_id'),
    templateName: r.textOrNull('minimax_template_name'),
    templateInputs: r.textOrNull('minimax_template_inputs'),
    minimaxFinalPrompt: r.textOrNull('minimax_final_prompt'),
    minimaxStatus: r.textOrNull('minimax_status'),
    fileId: r.textOrNull('minimax_file_id'),
    model: r.textOrNull('model'),
    resolution: r.textOrNull('resolution'),
    uploadId: r.textOrNull('upload_id'),
    hasVideo: Boolean(r.textOrNull('video_path')),
    videoBytes: r.intOrNull('video_bytes'),
    retryCount: r.int('retry_count'),
    nextAttemptAt: r.int('next_attempt_at'),
    lockedUntil: r.intOrNull('locked_until'),
    lockedBy: r.textOrNull('locked_by'),
    lastPolledAt: r.intOrNull('last_polled_at'),
    lastCallbackAt: r.intOrNull('last_callback_at'),
    submittedAt: r.intOrNull('submittedAt'),
    errorMessage: r.textOrNull('error_message'),
    updatedAt: r.int('updatedAt'),
    previewId: r.textOrNull('preview_id'),
    retryOf: retriedGenerationOf(r.textOrNull('idempotency_key')),
    retriedAs: (await db.value<string>('SELECT id FROM generations WHERE idempotency_key = ?', [retryOfKey(id)])) ?? null,
    events: await listGenerationEvents(db, id),
    audit: await listAudit(db, { targetType: 'generation', targetId: id, limit: 50 }),
  };
}

async function requireGeneration(
  db: Database,
  id: string,
): Promise<{ status: GenerationStatus; step: GenerationStep; jobId: string | null; templateId: string | null; imagePath: string | null; refunded: boolean }> {
  const row = await db.get('SELECT status, step, minimax_job_id, minimax_template_id, image_path, refunded FROM generations WHERE id = ?', [id]);
  if (!row) throw new AppError('GENERATION_NOT_FOUND', { status: 404 });
  const r = readRow('generations', row);
  return {
    status: r.oneOf('status', GENERATION_STATUSES),
    step: r.oneOf('step', GENERATION_STEPS),
    jobId: r.textOrNull('minimax_job_id'),
    templateId: r.textOrNull('minimax_template_id'),
    imagePath: r.textOrNull('image_path'),
    refunded: r.flag('refunded'),
  };
}

interface ActionInput {
  id: string;
  actor: Actor;
  requestKey?: string | null;
}

export interface ActionOutcome {
  /** False when nothing changed (already done, or a resent form). */
  applied: boolean;
  auditId: number;
}

/**
 * Asks MiniMax about the task now (the answer is shown to the admin) and makes the
 * generation due, so the worker applies the answer through its usual path at once.
 */
export async function requeryGeneration(ctx: AdminGenerationsDeps, input: ActionInput): Promise<ActionOutcome & { state: string; failureCode: string | null }> {
  const g = await requireGeneration(ctx.db, input.id);
  if (!g.jobId) throw new AppError('GENERATION_NO_TASK', { status: 409 });
  let state: string;
  let failureCode: string | null;
  try {
    const answer = g.templateId ? await ctx.minimax.queryTemplateTask(g.jobId) : await ctx.minimax.queryVideoTask(g.jobId);
    state = answer.state;
    failureCode = answer.failureCode;
  } catch (err) {
    ctx.log.warn({ mod: 'admin', generationId: input.id, err }, 'MiniMax query by an admin failed');
    const detail = isMinimaxError(err) ? `${err.code}: ${err.message}` : String(err);
    throw new AppError('MINIMAX_UNAVAILABLE', { status: 502, cause: err, details: { providerError: detail.slice(0, 300) } });
  }
  const now = ctx.clock.now();
  const entry = { actor: input.actor, action: 'generation.requery', targetType: 'generation', targetId: input.id, now } as const;
  const outcome = await auditedAction(ctx.db, entry, {
    replay: () => ({ applied: false }),
    change: async (_auditId, tx) => ({ outcome: { applied: await makeGenerationDue(tx, input.id, now) }, detail: { taskId: g.jobId, state, failureCode } }),
  });
  if (outcome.applied) ctx.generationWorker.wake(input.id);
  return { ...outcome, state, failureCode };
}

/** Puts a live generation (or one watched for a late success) back to work now. */
export async function requeueGeneration(ctx: AdminGenerationsDeps, input: ActionInput & { reason?: string | null }): Promise<ActionOutcome> {
  const reason = optionalReason(input.reason);
  const now = ctx.clock.now();
  const entry = { actor: input.actor, action: 'generation.requeue', targetType: 'generation', targetId: input.id, reason, requestKey: input.requestKey, now } as const;
  const outcome = await auditedAction(ctx.db, entry, {
    replay: () => ({ applied: false }),
    change: async (_auditId, tx) => {
      const g = await requireGeneration(tx, input.id);
      if (!(await makeGenerationDue(tx, input.id, now))) throw new AppError('GENERATION_NOT_REQUEUEABLE', { status: 409 });
      return { outcome: { applied: true }, detail: { status: g.status, step: g.step } };
    },
  });
  if (outcome.applied) ctx.generationWorker.wake(input.id);
  return outcome;
}

/**
 * Fails a live generation now (a stuck one the sweep has not reached, or one the operator
 * must stop) and refunds it exactly once. A generation already failed is left as it is.
 * One at MiniMax stays watched, so a late video is still delivered, free.
 */
export function failGenerationByAdmin(ctx: AdminGenerationsDeps, input: ActionInput & { reason: string }): Promise<ActionOutcome> {
  const reason = requireReason(input.reason);
  const now = ctx.clock.now();
  const entry = { actor: input.actor, action: 'generation.fail', targetType: 'generation', targetId: input.id, reason, requestKey: input.requestKey, now } as const;
  return auditedAction(ctx.db, entry, {
    replay: () => ({ applied: false }),
    change: async (_auditId, tx) => {
      const g = await requireGeneration(tx, input.id);
      if (g.status === 'success') throw new AppError('GENERATION_NOT_FAILABLE', { status: 409 });
      const watch = (g.step === 'poll' || g.step === 'download') && ctx.config.queue.lateWatchMs > 0;
      const applied = await failGeneration(
        tx,
        input.id,
        {
          stage: 'ADMIN',
          code: 'STOPPED_BY_SUPPORT',
          message: `failed by an admin: ${reason}`,
          attempt: null,
          keepWatching: watch,
          nextWatchAt: now + ctx.config.queue.pollIntervalMs,
        },
        now,
      );
      return { outcome: { applied }, detail: { statusBefore: g.status, step: g.step, changed: applied } };
    },
  });
}

/**
 * Returns a finished generation's credits by hand, exactly once (a second refund — by an
 * admin or the worker — is a no-op). Live generations are refused: fail them instead.
 */
export function refundGenerationByAdmin(ctx: AdminGenerationsDeps, input: ActionInput & { reason: string }): Promise<ActionOutcome & { credits: number }> {
  const reason = requireReason(input.reason);
  const now = ctx.clock.now();
  const entry = { actor: input.actor, action: 'generation.refund', targetType: 'generation', targetId: input.id, reason, requestKey: input.requestKey, now } as const;
  return auditedAction(ctx.db, entry, {
    replay: () => ({ applied: false, credits: 0 }),
    change: async (_auditId, tx) => {
      const g = await requireGeneration(tx, input.id);
      if (g.status === 'queued' || g.status === 'processing') throw new AppError('GENERATION_NOT_REFUNDABLE', { status: 409 });
      const result = await refundGenerationManually(tx, input.id, reason, now);
      return {
        outcome: { applied: result.refunded, credits: result.credits },
        detail: { status: g.status, credits: result.credits, changed: result.refunded },
      };
    },
  });
}

/**
 * Queues a failed generation again: with a new hold, or free (a reason is then required).
 * One retry per failed generation; the photo must still be on disk.
 */
export async function retryGenerationByAdmin(
  ctx: AdminGenerationsDeps,
  input: ActionInput & { free: boolean; reason?: string | null },
): Promise<ActionOutcome & { generationId: string; cost: number }> {
  const reason = input.free ? requireReason(input.reason) : optionalReason(input.reason);
  const g = await requireGeneration(ctx.db, input.id);
  if (g.status !== 'failed') throw new AppError('GENERATION_NOT_RETRYABLE', { status: 409 });
  if (!g.imagePath || !(await imageExists(ctx.blobs, g.imagePath))) {
    throw badRequest('GENERATION_IMAGE_MISSING');
  }
  const now = ctx.clock.now();
  const entry = { actor: input.actor, action: 'generation.retry', targetType: 'generation', targetId: input.id, reason, requestKey: input.requestKey, now } as const;
  const outcome = await auditedAction(ctx.db, entry, {
    replay: (seen) => ({
      applied: false,
      generationId: (seen.detail?.generationId as string | undefined) ?? '',
      cost: Number(seen.detail?.cost ?? 0),
    }),
    change: async (_auditId, tx) => {
      const created = await retryGeneration(tx, { sourceId: input.id, free: input.free, queue: ctx.generationWorker, now });
      return {
        outcome: { applied: true, generationId: created.generationId, cost: created.cost },
        detail: { generationId: created.generationId, free: input.free, cost: created.cost },
      };
    },
  });
  if (outcome.applied) ctx.generationWorker.wake(outcome.generationId);
  return outcome;
}

/** A path the store refuses is no photo; a store that fails is an error (a 500), not "gone". */
async function imageExists(blobs: BlobStore, relative: string): Promise<boolean> {
  try {
    return await blobs.exists(relative);
  } catch (err) {
    if (err instanceof BlobStoreError && err.code === 'BLOB_KEY_INVALID') return false;
    throw err;
  }
}

/** `generations:fail-stuck`: the worker's own stuck check, run now; audited with the ids. */
export async function failStuckGenerations(ctx: AdminGenerationsDeps, input: { actor: Actor }): Promise<{ failed: string[]; auditId: number }> {
  const now = ctx.clock.now();
  const failed = await ctx.generationWorker.failStuck(now);
  const auditId = await recordAdminAction(ctx.db, {
    actor: input.actor,
    action: 'generations.fail_stuck',
    targetType: 'system',
    targetId: null,
    detail: { failed, stuckAfterMs: ctx.config.queue.stuckAfterMs },
    now,
  });
  return { failed, auditId };
}
