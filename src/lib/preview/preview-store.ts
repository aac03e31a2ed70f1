import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Database } from '../db/database.ts';
import { readRow } from '../db/row.ts';
import { DURATIONS, GENERATION_MODES, type Duration, type GenerationMode } from '../model.ts';
import { newId } from '../ids.ts';
import { CAMERA_COMMANDS } from '../prompt/camera-commands.ts';
import { recordGenerationEvent } from '../generation/events.ts';

/**
 * Prompt previews in the database (migration 0006): one row per preview, owned by its user,
 * for an hour. The content is checked JSON, so a row written by an older build is refused
 * rather than half-read.
 */

/** How long a preview can be generated from (issue 16: an hour). */
export const PREVIEW_TTL_MS = 60 * 60 * 1000;

export type PreviewSource = 'model' | 'rules';

const templateChoiceSchema = z.object({
  templateId: z.string(),
  templateName: z.string(),
  textInputs: z.array(z.string()),
  usesImage: z.boolean(),
});

export const previewContentSchema = z.discriminatedUnion('mode', [
  z.object({
    mode: z.literal('prompt'),
    cinematic: z.string(),
    finalPrompt: z.string(),
    cameraMoves: z.array(z.array(z.enum(CAMERA_COMMANDS))),
    summaryRu: z.string(),
  }),
  z.object({
    mode: z.literal('template'),
    cinematic: z.string(),
    /** Null when no template fits what the seller has. */
    template: templateChoiceSchema.nullable(),
    /** Every template offered (the chosen one and its alternatives), best first. */
    offered: z.array(z.string()),
    summaryRu: z.string(),
  }),
]);
export type PreviewContent = z.infer<typeof previewContentSchema>;

export interface StoredPreview {
  id: string;
  userId: string;
  parentId: string | null;
  mode: GenerationMode;
  duration: Duration;
  prompt: string;
  source: PreviewSource;
  content: PreviewContent;
  createdAt: number;
  expiresAt: number;
}

/** The cache key of an engine result: the normalised input it was made from. */
export function previewInputKey(mode: GenerationMode, duration: Duration, prompt: string): string {
  return createHash('sha256').update(`${mode}\n${duration}\n${prompt}`).digest('hex');
}

function rowToPreview(row: Record<string, unknown>): StoredPreview {
  const r = readRow('prompt_previews', row);
  return {
    id: r.text('id'),
    userId: r.text('userId'),
    parentId: r.textOrNull('parent_id'),
    mode: r.oneOf('mode', GENERATION_MODES),
    duration: r.oneOf('duration', DURATIONS),
    prompt: r.text('prompt'),
    source: r.oneOf('source', ['model', 'rules'] as const),
    content: previewContentSchema.parse(JSON.parse(r.text('result'))),
    createdAt: r.int('createdAt'),
    expiresAt: r.int('expiresAt'),
  };
}

export type NewPreview = Omit<StoredPreview, 'id' | 'createdAt' | 'expiresAt'> & {
  /** Given when the id was needed before saving (the engine's alerts name it); else a new one. */
  id?: string;
  now: number;
};

export function newPreviewId(now: number): string {
  return newId('pvw', now);
}

/** Stores a preview (and drops everyone's expired ones, so the table stays an hour deep). */
export async function savePreview(db: Database, preview: NewPreview): Promise<StoredPreview> {
  const id = preview.id ?? newPreviewId(preview.now);
  const expiresAt = preview.now + PREVIEW_TTL_MS;
  await db.run('DELETE FROM prompt_previews WHERE expiresAt <= ?', [preview.now]);
  await db.run(
    `INSERT INTO prompt_previews (id, userId, parent_id, input_key, mode, duration, prompt, source, result, createdAt, expiresAt)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      id,
      preview.userId,
      preview.parentId,
      previewInputKey(preview.mode, preview.duration, preview.prompt),
      preview.mode,
      preview.duration,
      preview.prompt,
      preview.source,
      JSON.stringify(preview.content),
      preview.now,
      expiresAt,
    ],
  );
  return { ...preview, id, createdAt: preview.now, expiresAt };
}

/** The user's own live preview, or null (unknown, someone else's and expired look the same). */
export async function findLivePreview(db: Database, userId: string, id: string, now: number): Promise<StoredPreview | null> {
  const row = await db.get('SELECT * FROM prompt_previews WHERE id = ? AND userId = ? AND expiresAt > ?', [id, userId, now]);
  return row ? rowToPreview(row) : null;
}

/** The newest live engine result (not an edit) the model made for this exact input, for the cache. */
export async function findCachedPreview(db: Database, userId: string, inputKey: string, now: number): Promise<StoredPreview | null> {
  const row = await db.get(
    `SELECT * FROM prompt_previews
     WHERE userId = ? AND input_key = ? AND expiresAt > ? AND parent_id IS NULL AND source = 'model'
     ORDER BY createdAt DESC LIMIT 1`,
    [userId, inputKey, now],
  );
  return row ? rowToPreview(row) : null;
}

/**
 * Puts a preview's prompt or template on a just-queued generation, so the worker submits it
 * as is (step `submit`: no prompt engine, no model call). MUST run inside the transaction
 * that queued the generation.
 */
export async function applyPreviewToGeneration(db: Database, generationId: string, preview: StoredPreview, now: number): Promise<void> {
  const content = preview.content;
  const prompt = content.mode === 'prompt' ? content : null;
  const template = content.mode === 'template' ? content.template : null;
  const { changes } = await db.run(
    `UPDATE generations SET step = 'submit', preview_id = @previewId,
       prompt_cinematic = @cinematic, prompt_director = @director, prompt_final = @final, minimax_final_prompt = @final,
       camera_commands = @commands, minimax_template_id = @templateId, minimax_template_name = @templateName,
       minimax_template_inputs = @templateInputs, updatedAt = @now
     WHERE id = @id AND status = 'queued' AND step = 'prepare'`,
    {
      id: generationId,
      previewId: preview.id,
      now,
      cinematic: content.cinematic,
      director: prompt?.finalPrompt ?? null,
      final: prompt?.finalPrompt ?? content.cinematic,
      commands: JSON.stringify(prompt ? [...new Set(prompt.cameraMoves.flat())] : []),
      templateId: template?.templateId ?? null,
      templateName: template?.templateName ?? null,
      templateInputs: template ? JSON.stringify({ textInputs: template.textInputs, usesImage: template.usesImage }) : null,
    },
  );
  if (changes !== 1) throw new Error(`generation ${generationId} was not waiting for its prompt`);
  await recordGenerationEvent(db, generationId, { kind: 'prepared', status: 'queued', step: 'submit', detail: `from preview ${preview.id}`, now });
}

/**
 * A retry of a generation made from a preview sends that generation's previewed prompt or
 * template again (issue 16: a generation from a preview runs no model call), read from the
 * failed generation itself — its preview may have expired since. MUST run inside the
 * transaction that queued the retry. False (nothing changed) when the source came from no
 * preview: the retry then runs the prompt engine like any new generation.
 */
export async function carryPreviewToRetry(db: Database, sourceId: string, retryId: string, now: number): Promise<boolean> {
  const source = await db.value<string | null>('SELECT preview_id FROM generations WHERE id = ?', [sourceId]);
  if (!source) return false;
  const { changes } = await db.run(
    `UPDATE generations SET step = 'submit', preview_id = s.preview_id,
       prompt_cinematic = s.prompt_cinematic, prompt_director = s.prompt_director, prompt_final = s.prompt_final,
       minimax_final_prompt = s.prompt_final, camera_commands = s.camera_commands, minimax_template_id = s.minimax_template_id,
       minimax_template_name = s.minimax_template_name, minimax_template_inputs = s.minimax_template_inputs, updatedAt = @now
     FROM (SELECT * FROM generations WHERE id = @sourceId) AS s
     WHERE generations.id = @retryId AND generations.status = 'queued' AND generations.step = 'prepare'`,
    { sourceId, retryId, now },
  );
  if (changes !== 1) throw new Error(`generation ${retryId} was not waiting for its prompt`);
  await recordGenerationEvent(db, retryId, { kind: 'prepared', status: 'queued', step: 'submit', detail: `from preview ${source} (retry of ${sourceId})`, now });
  return true;
}
