import type { Database } from '../db/database.ts';
import { badRequest } from '../errors.ts';
import type { GenerationMode } from '../model.ts';
import { readRow } from '../db/row.ts';
import { requireFramePlan } from './first-frame.ts';
import { isVideoFormat, roundFocus, VIDEO_FORMATS, type Focus, type VideoFormat } from './formats.ts';
import { focusOf } from './media.ts';

/**
 * The seller's format choice of `POST /api/generate` (`format`, optional `focus: {x, y}`),
 * checked against the photo: a crop MiniMax could not take is refused before any credit moves.
 * Template mode ignores it: the template decides the shape.
 */

export interface FormatChoice {
  format: VideoFormat;
  focus: Focus | null;
}

const inUnit = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 1;

/** Reads `format` and `focus` from a request body (an object); throws the seller's 400. */
export function parseFormatChoice(body: Record<string, unknown>): FormatChoice {
  const format = body.format ?? 'original';
  if (!isVideoFormat(format)) throw badRequest('FORMAT_INVALID', 'format');
  const raw = body.focus ?? null;
  if (raw === null || format === 'original') return { format, focus: null };
  if (typeof raw !== 'object' || Array.isArray(raw) || !inUnit((raw as Focus).x) || !inUnit((raw as Focus).y)) {
    throw badRequest('FOCUS_INVALID', 'focus');
  }
  return { format, focus: roundFocus(raw as Focus) };
}

/** The choice a new generation is stored with: checked against the photo, `original` in template mode. */
export function chooseFormat(body: unknown, mode: GenerationMode, photo: { width: number; height: number }): FormatChoice {
  const choice = parseFormatChoice(body as Record<string, unknown>);
  if (mode === 'template') return { format: 'original', focus: null };
  requireFramePlan(photo, choice.format, choice.focus);
  return choice;
}

/** The stored choice of a generation (a retry keeps it). */
export async function storedFormatChoice(db: Database, generationId: string): Promise<FormatChoice> {
  const row = await db.get('SELECT video_format, focus_x, focus_y FROM generations WHERE id = ?', [generationId]);
  const r = readRow('generations', row!);
  return { format: r.oneOf('video_format', VIDEO_FORMATS), focus: focusOf(r.intOrNull('focus_x'), r.intOrNull('focus_y')) };
}

/** The columns' values: focus in thousandths. */
export function formatColumns(choice: FormatChoice): { format: VideoFormat; focusX: number | null; focusY: number | null } {
  return {
    format: choice.format,
    focusX: choice.focus ? Math.round(choice.focus.x * 1000) : null,
    focusY: choice.focus ? Math.round(choice.focus.y * 1000) : null,
  };
}
