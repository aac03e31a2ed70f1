import type { Database } from '../db/database.ts';
import type { User } from '../auth/users.ts';
import { t, type Locale } from '../i18n/index.ts';
import { reasonForError } from './transitions.ts';
import { estimateWaitMs } from './wait-history.ts';
import { CANCELLABLE_SQL } from './queue.ts';
import { readRow } from '../db/row.ts';
import {
  DURATIONS,
  GENERATION_MODES,
  GENERATION_STATUSES,
  GENERATION_STEPS,
  type GenerationMode,
  type GenerationStatus,
  type GenerationStep,
} from '../model.ts';
import { VIDEO_FORMATS, type VideoFormat } from '../video/formats.ts';
import { expiredVideoMessage, expiryOf, type VideoExpiry } from '../video/retention.ts';

/**
 * What the owner sees of a generation (`GET /api/status`, `GET /api/generations`): the
 * spec's fields (id, status, videoUrl, duration, createdAt) plus progress and prompts.
 * Internal details (MiniMax ids, lease, raw provider messages) never leave the server.
 * Timestamps are milliseconds, like everywhere else in Beem.
 */
export interface GenerationView {
  id: string;
  status: GenerationStatus;
  step: GenerationStep;
  mode: GenerationMode;
  duration: number;
  cost: number;
  videoUrl: string | null;
  downloadUrl: string | null;
  queuePosition: number | null;
  /** Estimated milliseconds still to wait (wait-estimate.ts); null when finished or without history. */
  etaMs: number | null;
  /** A sentence saying what happened and what to do, when failed. */
  error: string | null;
  errorReason: string | null;
  refunded: boolean;
  charged: boolean;
  prompt: string | null;
  promptFinal: string | null;
  cameraCommands: string[];
  templateName: string | null;
  createdAt: number;
  submittedAt: number | null;
  completedAt: number | null;
  updatedAt: number;
  elapsedMs: number;
  /** The first frame's shape the seller chose (`original` in template mode). */
  format: VideoFormat;
  /** The video's own size, once it is saved (null before). */
  width: number | null;
  height: number | null;
  /** The poster: taken from the video, or (before it, or without ffmpeg) the cropped first frame. */
  posterUrl: string;
  /** Its owner may cancel it now (`POST /api/generations/<id>/cancel`): nothing has gone to MiniMax yet. */
  cancellable: boolean;
  /**
   * When the retention sweep deleted the video's files (VIDEO_RETENTION_DAYS), and the sentence
   * saying so; the status stays `success` (it was delivered and paid for), without video URLs.
   */
  expiredAt: number | null;
  expiredMessage: string | null;
}

const VIEW_COLUMNS = `id, userId, status, step, generation_mode, duration, cost, charged, refunded, prompt, prompt_final,
  camera_commands, minimax_template_name, video_path, error_code, createdAt, submittedAt, completedAt, updatedAt,
  video_format, video_width, video_height, poster_path, expiredAt, retention_days, ${CANCELLABLE_SQL} AS cancellable`;

function parseCommands(raw: string | null): string[] {
  if (raw === null) return [];
  try {
    const value: unknown = JSON.parse(raw);
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}

async function queuePosition(db: Database, row: Record<string, unknown>): Promise<number> {
  return (await db.value<number>(
    `SELECT COUNT(*) FROM generations WHERE status = 'queued' AND (createdAt < @createdAt OR (createdAt = @createdAt AND id <= @id))`,
    { createdAt: row.createdAt, id: row.id },
  )) as number;
}

/** The view of a `generations` row (VIEW_COLUMNS) for `viewerId`, read through the checked reader. */
async function toView(db: Database, row: Record<string, unknown>, viewerId: string, locale: Locale, now: number): Promise<GenerationView> {
  const r = readRow('generations', row);
  const id = r.text('id');
  const status = r.oneOf('status', GENERATION_STATUSES);
  const hasVideo = status === 'success' && r.textOrNull('video_path') !== null;
  const reason = status === 'failed' ? reasonForError(r.textOrNull('error_code')) : null;
  const createdAt = r.int('createdAt');
  const completedAt = r.intOrNull('completedAt');
  const position = status === 'queued' ? await queuePosition(db, row) : null;
  const expiry = expiryOf(r);
  return {
    id,
    status,
    step: r.oneOf('step', GENERATION_STEPS),
    mode: r.oneOf('generation_mode', GENERATION_MODES),
    duration: r.oneOf('duration', DURATIONS),
    cost: r.int('cost'),
    videoUrl: hasVideo ? `/api/video/${id}` : null,
    downloadUrl: hasVideo ? `/api/video/${id}?download=1` : null,
    queuePosition: position,
    etaMs: await estimateWaitMs(
      db,
      { status, mode: r.oneOf('generation_mode', GENERATION_MODES), duration: r.oneOf('duration', DURATIONS), createdAt, submittedAt: r.intOrNull('submittedAt'), queuePosition: position },
      now,
    ),
    error: reason ? t(locale, `generation.reason.${reason}`) : null,
    errorReason: reason,
    refunded: r.flag('refunded'),
    charged: r.flag('charged'),
    prompt: r.textOrNull('prompt'),
    promptFinal: r.textOrNull('prompt_final'),
    cameraCommands: parseCommands(r.textOrNull('camera_commands')),
    templateName: r.textOrNull('minimax_template_name'),
    createdAt,
    submittedAt: r.intOrNull('submittedAt'),
    completedAt,
    updatedAt: r.int('updatedAt'),
    elapsedMs: Math.max(0, (status === 'success' || status === 'failed' ? completedAt ?? now : now) - createdAt),
    format: r.oneOf('video_format', VIDEO_FORMATS),
    width: hasVideo ? r.intOrNull('video_width') : null,
    height: hasVideo ? r.intOrNull('video_height') : null,
    // Another address once the real poster exists, so a cached first frame is not shown for it.
    posterUrl: `/api/video/${id}/poster.jpg${r.textOrNull('poster_path') ? '' : '?frame=1'}`,
    // Only its owner may cancel (an admin looking at it could not).
    cancellable: r.flag('cancellable') && r.text('userId') === viewerId,
    expiredAt: expiry?.at ?? null,
    expiredMessage: expiry ? expiredVideoMessage(locale, expiry.days) : null,
  };
}

/** The generation if the viewer owns it (or is an admin); others get null, as if it did not exist. */
export async function getGenerationView(db: Database, id: string, viewer: User, locale: Locale, now: number): Promise<GenerationView | null> {
  const row = await db.get<Record<string, unknown>>(`SELECT ${VIEW_COLUMNS} FROM generations WHERE id = ?`, [id]);
  if (!row) return null;
  if (row.userId !== viewer.id && viewer.role !== 'admin') return null;
  return toView(db, row, viewer.id, locale, now);
}

export interface GenerationPage {
  items: GenerationView[];
  nextCursor: string | null;
}

function encodeCursor(row: Record<string, unknown>): string {
  const r = readRow('generations', row);
  return Buffer.from(`${r.int('createdAt')}:${r.text('id')}`).toString('base64url');
}

function decodeCursor(cursor: string | null): { createdAt: number; id: string } | null {
  if (!cursor) return null;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const sep = text.indexOf(':');
  const createdAt = Number(text.slice(0, sep));
  const id = text.slice(sep + 1);
  if (sep <= 0 || !Number.isInteger(createdAt) || !id) return null;
  return { createdAt, id };
}

/** The user's generations, newest first, `limit` per page; `cursor` comes from the previous page. */
export async function listGenerationViews(
  db: Database,
  userId: string,
  options: { cursor: string | null; limit: number; locale: Locale; now: number },
): Promise<GenerationPage> {
  const after = decodeCursor(options.cursor);
  const rows = await db.all<Record<string, unknown>>(
    `SELECT ${VIEW_COLUMNS} FROM generations
     WHERE userId = @userId AND (CAST(@createdAt AS BIGINT) IS NULL OR createdAt < @createdAt OR (createdAt = @createdAt AND id < @id))
     ORDER BY createdAt DESC, id DESC LIMIT @limit`,
    { userId, createdAt: after?.createdAt ?? null, id: after?.id ?? '', limit: options.limit + 1 },
  );
  const page = rows.slice(0, options.limit);
  const last = page[page.length - 1];
  const items: GenerationView[] = [];
  for (const row of page) items.push(await toView(db, row, userId, options.locale, options.now));
  return {
    items,
    nextCursor: rows.length > options.limit && last ? encodeCursor(last) : null,
  };
}

export interface StoredVideoRef {
  generationId: string;
  /** Relative to STORAGE_DIR. */
  path: string;
}

/** A finished video the viewer may watch: their own, or any for an admin. */
export async function findVideoForViewer(db: Database, generationId: string, viewer: User): Promise<StoredVideoRef | null> {
  const row = await db.get<{ id: string; userId: string; video_path: string }>(
    `SELECT id, userId, video_path FROM generations WHERE id = ? AND status = 'success' AND video_path IS NOT NULL`,
    [generationId],
  );
  if (!row || (row.userId !== viewer.id && viewer.role !== 'admin')) return null;
  return { generationId: row.id, path: row.video_path };
}

/** Why a video the viewer may see is gone: the retention sweep deleted it (null: it never was, or it is there). */
export async function findExpiredVideoForViewer(db: Database, generationId: string, viewer: User): Promise<VideoExpiry | null> {
  const row = await db.get<Record<string, unknown>>('SELECT userId, expiredAt, retention_days FROM generations WHERE id = ? AND expiredAt IS NOT NULL', [generationId]);
  if (!row || (row.userId !== viewer.id && viewer.role !== 'admin')) return null;
  return expiryOf(readRow('generations', row));
}

/** The spec's `/api/video/current`: the user's newest finished video. */
export async function findCurrentVideo(db: Database, userId: string): Promise<StoredVideoRef | null> {
  const row = await db.get<{ id: string; video_path: string }>(
    `SELECT id, video_path FROM generations WHERE userId = ? AND status = 'success' AND video_path IS NOT NULL
     ORDER BY completedAt DESC, createdAt DESC LIMIT 1`,
    [userId],
  );
  return row ? { generationId: row.id, path: row.video_path } : null;
}
