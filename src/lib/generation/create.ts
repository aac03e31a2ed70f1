import { z } from 'zod';
import type { Config } from '../config.ts';
import { DURATIONS, GENERATION_MODES, GENERATION_STATUSES, ledgerRef, PROMPT_MAX, PROMPT_MIN, type Duration, type GenerationMode } from '../model.ts';
import { readRow } from '../db/row.ts';
import { inTransaction, type Database } from '../db/database.ts';
import { AppError, badRequest, insufficientBalance } from '../errors.ts';
import { holdCredits } from './credits.ts';
import { newId } from '../ids.ts';
import { parseInput } from '../parse-input.ts';
import { getCurrentUpload } from '../uploads/uploads.ts';
import { isDurationSupported } from '../providers/minimax/model-matrix.ts';
import { recordGenerationEvent } from './events.ts';
import { chooseFormat, formatColumns, storedFormatChoice, type FormatChoice } from '../video/format-choice.ts';
import { applyPreviewToGeneration, carryPreviewToRetry } from '../preview/preview-store.ts';
import { previewForGeneration } from '../preview/preview-generation.ts';
import { refuseUnfitTemplateRequest } from './template-gate.ts';

const promptSchema = z.object({
  prompt: z
    .string({ message: 'PROMPT_TOO_SHORT' })
    .trim()
    .min(PROMPT_MIN, { message: 'PROMPT_TOO_SHORT' })
    .max(PROMPT_MAX, { message: 'PROMPT_TOO_LONG' }),
});
// Numbers only, as documented: "6" is refused rather than guessed at.
const durationSchema = z.object({
  duration: z.union([z.literal(6), z.literal(10)], { message: 'DURATION_INVALID' }),
});
const modeSchema = z.object({
  mode: z.enum(GENERATION_MODES, { message: 'MODE_INVALID' }),
});

/**
 * The queue's part in accepting a generation (`GenerationWorker.enqueue`), called inside the
 * transaction that writes the row and holds the credits: on PostgreSQL it sends the pg-boss job
 * in that transaction, so the hold and the job commit or roll back together. Without one the row
 * alone is the queue: the in-process worker claims it from the table, and on PostgreSQL the
 * worker's dispatch repair sends its job at the next wake-up.
 */
export interface GenerationDispatch {
  enqueue(tx: Database, generationId: string): Promise<void>;
}

export interface CreateGenerationOptions {
  db: Database;
  config: Config;
  queue?: GenerationDispatch;
  userId: string;
  /** The parsed JSON body, checked here in the spec's order. */
  body: unknown;
  /** From the client's `Idempotency-Key` header: a repeated click returns the first answer. */
  idempotencyKey: string | null;
  now: number;
}

export interface CreatedGeneration {
  success: true;
  generationId: string;
  mode: GenerationMode;
  cost: number;
  balanceBefore: number;
  balanceAfter: number;
  status: 'queued';
  queueSize: number;
}

export interface ValidatedRequest {
  prompt: string;
  duration: Duration;
  mode: GenerationMode;
}

/** Field checks in the spec's order: prompt, duration, mode, then whether the length is offered. */
export function validateGenerationRequest(body: unknown, config: Config): ValidatedRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('INVALID_JSON');
  const input = body;
  const { prompt } = parseInput(promptSchema, input);
  const { duration } = parseInput(durationSchema, input);
  const { mode } = parseInput(modeSchema, input);
  // Template tasks pick their own length; prompt mode is bound by the configured model.
  if (mode === 'prompt' && !isDurationSupported(config.minimax.model, config.minimax.resolution, duration)) {
    throw badRequest('DURATION_NOT_AVAILABLE', 'duration', { duration });
  }
  return { prompt, duration, mode };
}

interface NewGeneration {
  userId: string;
  mode: GenerationMode;
  duration: Duration;
  cost: number;
  uploadId: string | null;
  imagePath: string | null;
  prompt: string | null;
  /** The first frame's shape (prompt mode) and focus point. */
  shape: FormatChoice;
  idempotencyKey: string | null;
  /** The hold's ledger note for the new generation's id. */
  holdNote: (id: string) => string;
  /** The `created` event's detail. */
  detail: string;
  queue: GenerationDispatch | undefined;
  now: number;
}

/**
 * The one way a generation enters the queue: its row and its credit hold, written together.
 * MUST run inside the caller's transaction, after the caller has checked the balance.
 */
async function enqueueGeneration(db: Database, g: NewGeneration): Promise<{ id: string; balanceAfter: number }> {
  const id = newId('gen', g.now);
  const shape = formatColumns(g.shape);
  await db.run(
    `INSERT INTO generations (id, userId, status, step, duration, cost, upload_id, image_path, prompt,
       generation_mode, next_attempt_at, idempotency_key, video_format, focus_x, focus_y, createdAt, updatedAt)
     VALUES (?, ?, 'queued', 'prepare', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [id, g.userId, g.duration, g.cost, g.uploadId, g.imagePath, g.prompt, g.mode, g.now, g.idempotencyKey, shape.format, shape.focusX, shape.focusY, g.now, g.now],
  );
  const balanceAfter = await holdCredits(db, { generationId: id, userId: g.userId, cost: g.cost, note: g.holdNote(id), now: g.now });
  await recordGenerationEvent(db, id, { kind: 'created', status: 'queued', step: 'prepare', detail: g.detail, now: g.now });
  await g.queue?.enqueue(db, id);
  return { id, balanceAfter };
}

async function queuedCount(db: Database): Promise<number> {
  return (await db.value<number>(`SELECT COUNT(*) FROM generations WHERE status = 'queued'`)) as number;
}

/** The answer given the first time, for a repeated Idempotency-Key. */
async function replayCreated(db: Database, row: Record<string, unknown>): Promise<CreatedGeneration> {
  const r = readRow('generations', row);
  const id = r.text('id');
  const hold = await db.value<number>(`SELECT balance_after FROM credit_ledger WHERE reference = ?`, [ledgerRef.hold(id)]);
  const cost = r.int('cost');
  const balanceAfter =
    hold ?? ((await db.value<number>('SELECT generation_balance FROM users WHERE id = ?', [r.text('userId')])) as number);
  return {
    success: true,
    generationId: id,
    mode: r.oneOf('generation_mode', GENERATION_MODES),
    cost,
    balanceBefore: balanceAfter + cost,
    balanceAfter,
    status: 'queued',
    queueSize: await queuedCount(db),
  };
}

/**
 * Whether a request repeating an Idempotency-Key asks for what the stored generation is: the
 * same words, length and mode, the same photo, the same format and focus (compared as stored,
 * in thousandths) and the same preview (or none), so a repeat in another shape, or from
 * another edit of the preview, is never answered with the first video.
 */
function isSameRequest(
  existing: Record<string, unknown>,
  request: ValidatedRequest,
  asked: { shape: FormatChoice; uploadId: string; previewId: string | null },
): boolean {
  const columns = formatColumns(asked.shape);
  return (
    existing.prompt === request.prompt &&
    existing.duration === request.duration &&
    existing.generation_mode === request.mode &&
    existing.upload_id === asked.uploadId &&
    existing.video_format === columns.format &&
    existing.focus_x === columns.focusX &&
    existing.focus_y === columns.focusY &&
    existing.preview_id === asked.previewId
  );
}

/**
 * Accepts a generation: the row (the queue entry) and the credit hold are written in one
 * transaction, so parallel requests can never spend more than the balance, and a failed
 * generation can always be refunded against its hold.
 */
export async function createGeneration(options: CreateGenerationOptions): Promise<CreatedGeneration> {
  const { db, config, userId, now } = options;
  const upload = await getCurrentUpload(db, userId);
  if (!upload) throw badRequest('NO_IMAGE', 'image');
  // From a preview: exactly what the seller saw, no prompt engine run again (issue 16).
  const preview = await previewForGeneration(db, userId, options.body, now);
  const request = preview ? { prompt: preview.prompt, duration: preview.duration, mode: preview.mode } : validateGenerationRequest(options.body, config);
  if (!preview) refuseUnfitTemplateRequest(request, config);
  const shape = chooseFormat(options.body, request.mode, upload);
  const cost = config.pricing.generation[request.mode][request.duration];
  const key = options.idempotencyKey ? `${userId}:${options.idempotencyKey}` : null;

  return inTransaction(db, async (tx): Promise<CreatedGeneration> => {
    if (key) {
      const existing = await tx.get<Record<string, unknown>>(
        `SELECT id, userId, cost, generation_mode, prompt, duration, upload_id, video_format, focus_x, focus_y, preview_id
         FROM generations WHERE idempotency_key = ?`,
        [key],
      );
      if (existing) {
        // Same key, other request: a client bug, not a repeated click (Stripe answers the same).
        if (!isSameRequest(existing, request, { shape, uploadId: upload.id, previewId: preview?.id ?? null })) throw new AppError('IDEMPOTENCY_KEY_REUSED', { status: 422 });
        return replayCreated(tx, existing);
      }
    }
    const balanceBefore = await tx.value<number>('SELECT generation_balance FROM users WHERE id = ?', [userId]);
    if (balanceBefore === undefined) throw new AppError('UNAUTHORIZED', { status: 401 });
    if (balanceBefore < cost) throw insufficientBalance(cost, balanceBefore);

    const { id, balanceAfter } = await enqueueGeneration(tx, {
      userId,
      mode: request.mode,
      duration: request.duration,
      cost,
      uploadId: upload.id,
      imagePath: upload.path,
      prompt: request.prompt,
      shape,
      idempotencyKey: key,
      holdNote: (newGenerationId) => `Генерация ${newGenerationId}`,
      detail: `cost=${cost}`,
      queue: options.queue,
      now,
    });
    if (preview) await applyPreviewToGeneration(tx, id, preview, now);
    return {
      success: true,
      generationId: id,
      mode: request.mode,
      cost,
      balanceBefore,
      balanceAfter,
      status: 'queued',
      queueSize: await queuedCount(tx),
    };
  });
}

/** The idempotency key of a generation's one retry: a second retry of the same source is refused. */
export function retryOfKey(sourceId: string): string {
  return `retry-of:${sourceId}`;
}

/** The generation a retry was made from, read from its idempotency key; null for others. */
export function retriedGenerationOf(idempotencyKey: string | null): string | null {
  return idempotencyKey?.startsWith('retry-of:') ? idempotencyKey.slice('retry-of:'.length) : null;
}

export interface RetryOptions {
  sourceId: string;
  /** Free: the new generation costs nothing (an admin's goodwill, with a reason). */
  free: boolean;
  queue?: GenerationDispatch;
  now: number;
}

/**
 * Queues a failed generation again as a new one with the same photo, prompt, mode and
 * length (and, when it came from a preview, the same previewed prompt or template, sent
 * without asking the model): a new hold (or none when free) and the new row in one transaction. The key
 * `retry-of:<sourceId>` allows one retry per failed generation, so a repeated request
 * cannot queue (or charge) twice; a retry that fails can be retried in its turn.
 */
export async function retryGeneration(db: Database, options: RetryOptions): Promise<{ generationId: string; cost: number; balanceAfter: number }> {
  return inTransaction(db, async (tx) => {
    const row = await tx.get<Record<string, unknown>>(
      'SELECT id, userId, status, duration, cost, upload_id, image_path, prompt, generation_mode FROM generations WHERE id = ?',
      [options.sourceId],
    );
    if (!row) throw new AppError('GENERATION_NOT_FOUND', { status: 404 });
    const source = readRow('generations', row);
    if (source.oneOf('status', GENERATION_STATUSES) !== 'failed') throw new AppError('GENERATION_NOT_RETRYABLE', { status: 409 });
    const key = retryOfKey(options.sourceId);
    if (await tx.get('SELECT 1 FROM generations WHERE idempotency_key = ?', [key])) {
      throw new AppError('GENERATION_ALREADY_RETRIED', { status: 409 });
    }
    const cost = options.free ? 0 : source.int('cost');
    const { id, balanceAfter } = await enqueueGeneration(tx, {
      userId: source.text('userId'),
      mode: source.oneOf('generation_mode', GENERATION_MODES),
      duration: source.oneOf('duration', DURATIONS),
      cost,
      uploadId: source.textOrNull('upload_id'),
      imagePath: source.textOrNull('image_path'),
      prompt: source.textOrNull('prompt'),
      shape: await storedFormatChoice(tx, options.sourceId),
      idempotencyKey: key,
      holdNote: (newGenerationId) => `Генерация ${newGenerationId} (повтор ${options.sourceId})`,
      detail: `retry of ${options.sourceId}, ${options.free ? 'free' : `cost=${cost}`}`,
      queue: options.queue,
      now: options.now,
    });
    await carryPreviewToRetry(tx, options.sourceId, id, options.now);
    await recordGenerationEvent(tx, options.sourceId, { kind: 'retried', status: 'failed', detail: `as ${id}`, now: options.now });
    return { generationId: id, cost, balanceAfter };
  });
}
