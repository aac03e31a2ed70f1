import type { Database } from '../db/database.ts';
import type { User } from '../auth/users.ts';
import type { Logger } from '../logger.ts';
import { readRow } from '../db/row.ts';
import { GENERATION_STATUSES, type GenerationStatus } from '../model.ts';
import type { BlobStore } from '../blobs/index.ts';
import { getUpload } from '../uploads/uploads.ts';
import { ensureFirstFrame } from './first-frame.ts';
import { VIDEO_FORMATS, type Focus, type VideoFormat } from './formats.ts';
import { readStoredMp4Info } from './mp4-info.ts';
import { expiryOf, type VideoExpiry } from './retention.ts';

/**
 * A generation's pictures and facts about its video: the first frame it was made from, the
 * poster taken from the saved MP4, its own size and length. Owner-checked reads for the
 * file routes; writes by the worker when a video is saved.
 */

export interface GenerationMedia {
  generationId: string;
  userId: string;
  status: GenerationStatus;
  format: VideoFormat;
  focus: Focus | null;
  uploadId: string | null;
  /** The photo as uploaded (relative to STORAGE_DIR). */
  imagePath: string | null;
  framePath: string | null;
  videoPath: string | null;
  posterPath: string | null;
  width: number | null;
  height: number | null;
  durationMs: number | null;
  /** Set when the retention sweep deleted the video's files (its paths are null then). */
  expiry: VideoExpiry | null;
}

const COLUMNS = `id, userId, status, video_format, focus_x, focus_y, upload_id, image_path, frame_path, video_path, poster_path,
  video_width, video_height, video_duration_ms, expiredAt, retention_days`;

/** Reads a stored focus pair (thousandths); either half missing means none. */
export function focusOf(x: number | null, y: number | null): Focus | null {
  return x === null || y === null ? null : { x: x / 1000, y: y / 1000 };
}

function rowToMedia(row: Record<string, unknown>): GenerationMedia {
  const r = readRow('generations', row);
  return {
    generationId: r.text('id'),
    userId: r.text('userId'),
    status: r.oneOf('status', GENERATION_STATUSES),
    format: r.oneOf('video_format', VIDEO_FORMATS),
    focus: focusOf(r.intOrNull('focus_x'), r.intOrNull('focus_y')),
    uploadId: r.textOrNull('upload_id'),
    imagePath: r.textOrNull('image_path'),
    framePath: r.textOrNull('frame_path'),
    videoPath: r.textOrNull('video_path'),
    posterPath: r.textOrNull('poster_path'),
    width: r.intOrNull('video_width'),
    height: r.intOrNull('video_height'),
    durationMs: r.intOrNull('video_duration_ms'),
    expiry: expiryOf(r),
  };
}

/** The generation's media if the viewer owns it (or is an admin); others get null, as if it did not exist. */
export async function findMediaForViewer(db: Database, generationId: string, viewer: Pick<User, 'id' | 'role'>): Promise<GenerationMedia | null> {
  const row = await db.get(`SELECT ${COLUMNS} FROM generations WHERE id = ?`, [generationId]);
  if (!row || (row.userId !== viewer.id && viewer.role !== 'admin')) return null;
  return rowToMedia(row);
}

export async function getGenerationMedia(db: Database, generationId: string): Promise<GenerationMedia | null> {
  const row = await db.get(`SELECT ${COLUMNS} FROM generations WHERE id = ?`, [generationId]);
  return row ? rowToMedia(row) : null;
}

/** A finished video is watchable: exports and covers are made only from one. */
export function hasVideo(media: GenerationMedia): media is GenerationMedia & { videoPath: string } {
  return media.status === 'success' && media.videoPath !== null;
}

/**
 * The first frame as the worker sends it (made once and kept): the photo cut to the format.
 * `original` (and template mode) is the photo itself.
 */
export async function firstFrameOf(db: Database, blobs: BlobStore, media: GenerationMedia): Promise<string | null> {
  if (media.framePath && (await blobs.exists(media.framePath))) return media.framePath;
  const upload = media.uploadId ? await getUpload(db, media.uploadId) : null;
  if (!upload) return media.imagePath;
  return ensureFirstFrame({ blobs, upload, format: media.format, focus: media.focus });
}

/** Written at submission: the frame that went to MiniMax. */
export async function recordFirstFrame(db: Database, generationId: string, framePath: string): Promise<void> {
  await db.run('UPDATE generations SET frame_path = ? WHERE id = ?', [framePath, generationId]);
}

/**
 * The poster shown before a video plays: the JPEG taken from the saved video, or (before it
 * is saved, or without ffmpeg) the first frame.
 */
export async function posterOf(db: Database, blobs: BlobStore, media: GenerationMedia): Promise<string | null> {
  if (media.posterPath && (await blobs.exists(media.posterPath))) return media.posterPath;
  return firstFrameOf(db, blobs, media);
}

/**
 * Called when a video has been saved, before the generation is marked done: reads its size and
 * length from the MP4 header (a few ranged reads, no ffmpeg). It cannot fail the generation: a video
 * whose header is unreadable still plays, only without its size in the status.
 */
export async function recordVideoHeader(deps: { db: Database; blobs: BlobStore; log: Logger }, video: { generationId: string; relativePath: string }): Promise<void> {
  const log = deps.log.child({ mod: 'video-media', generationId: video.generationId });
  try {
    const info = await readStoredMp4Info(deps.blobs, video.relativePath);
    if (info) {
      await deps.db.run('UPDATE generations SET video_width = ?, video_height = ?, video_duration_ms = ? WHERE id = ?', [
        info.width,
        info.height,
        info.durationMs,
        video.generationId,
      ]);
    } else log.warn('the saved video has no readable MP4 header');
  } catch (err) {
    log.warn({ err }, 'could not read the saved video header');
  }
}
