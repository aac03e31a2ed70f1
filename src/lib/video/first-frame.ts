import fs from 'node:fs';
import sharp from 'sharp';
import { AppError } from '../errors.ts';
import { relativeUserFile, resolveStored, writeFileAtomic } from '../storage.ts';
import type { Upload } from '../uploads/uploads.ts';
import { formatSlug, planFirstFrame, type Focus, type FramePlan, type VideoFormat } from './formats.ts';

/**
 * The first frame MiniMax gets: the seller's photo cut to the chosen format with sharp. Kept as
 * a file beside the photo, named by its inputs (format and focus), so the preview the page
 * shows and the frame the worker sends are one and the same file.
 */

export interface FirstFrameRequest {
  storageDir: string;
  upload: Pick<Upload, 'id' | 'userId' | 'path' | 'width' | 'height'>;
  format: VideoFormat;
  focus: Focus | null;
}

/** The plan, or the seller's error (400, in the catalogue's words) when the photo cannot give a frame. */
export function requireFramePlan(upload: { width: number; height: number }, format: VideoFormat, focus: Focus | null): Extract<FramePlan, { ok: true }> {
  const plan = planFirstFrame(upload, format, focus);
  if (!plan.ok) throw new AppError(plan.code, { status: 400, field: 'format', params: plan.params });
  return plan;
}

/** The stored frame's path relative to STORAGE_DIR: `<uploadId>.<3x4>.<auto|x-y>.jpg`. */
export function firstFrameFile(request: Omit<FirstFrameRequest, 'storageDir'>): string {
  if (request.format === 'original') return request.upload.path;
  const focus = request.focus ? `${Math.round(request.focus.x * 1000)}-${Math.round(request.focus.y * 1000)}` : 'auto';
  return relativeUserFile(request.upload.userId, 'uploads', `${request.upload.id}.${formatSlug(request.format)}.${focus}.jpg`);
}

/**
 * Makes (once) and returns the frame's relative path. Without a focus point sharp's attention
 * strategy places the crop on the most salient part (the product, usually); with one, the crop
 * is centred on it. A crop under MiniMax's minimum is enlarged (at most 2×, checked by the plan).
 */
export async function ensureFirstFrame(request: FirstFrameRequest): Promise<string> {
  const relative = firstFrameFile(request);
  if (request.format === 'original') return relative;
  const file = resolveStored(request.storageDir, relative);
  if (fs.existsSync(file)) return relative;
  const plan = requireFramePlan(request.upload, request.format, request.focus);
  // Read first: a missing photo is an ENOENT the worker knows (IMAGE_MISSING), not a sharp error.
  const source = sharp(await fs.promises.readFile(resolveStored(request.storageDir, request.upload.path)));
  const cut = request.focus
    ? source.extract(plan.crop).resize(plan.output.width, plan.output.height, { fit: 'fill' })
    : source.resize(plan.output.width, plan.output.height, { fit: 'cover', position: sharp.strategy.attention });
  const jpeg = await cut.jpeg({ quality: 90, mozjpeg: true }).toBuffer();
  await writeFileAtomic(file, jpeg);
  return relative;
}
