import type { Database } from '../db/database.ts';
import { AppError } from '../errors.ts';
import { findLivePreview, type StoredPreview } from './preview-store.ts';

/**
 * The preview a `POST /api/generate` names (`previewId`), checked for generating: the
 * user's own and live (else 404), a template preview with a template (else 409), and —
 * when the request also sends its text, mode or length — the same ones the preview was
 * made from, so an edit after the preview never goes out under the old prompt (409).
 * Null when the request names no preview.
 */
export async function previewForGeneration(db: Database, userId: string, body: unknown, now: number): Promise<StoredPreview | null> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null;
  const fields = body as Record<string, unknown>;
  if (fields.previewId === undefined || fields.previewId === null) return null;
  const preview = typeof fields.previewId === 'string' && fields.previewId.length <= 100 ? await findLivePreview(db, userId, fields.previewId, now) : null;
  if (!preview) throw new AppError('PREVIEW_NOT_FOUND', { status: 404, field: 'previewId' });
  const differs =
    (typeof fields.prompt === 'string' && fields.prompt.trim() !== preview.prompt) ||
    (fields.mode !== undefined && fields.mode !== preview.mode) ||
    (fields.duration !== undefined && fields.duration !== preview.duration);
  if (differs) throw new AppError('PREVIEW_STALE', { status: 409, field: 'previewId' });
  if (preview.content.mode === 'template' && !preview.content.template) throw new AppError('PREVIEW_NO_TEMPLATE', { status: 409, field: 'previewId' });
  return preview;
}
