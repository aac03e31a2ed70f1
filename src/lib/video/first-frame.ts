import { Readable } from 'node:stream';
import sharp from 'sharp';
import { AppError } from '../errors.ts';
import { relativeUserFile } from '../storage.ts';
import { isBlobNotFound, readBlobBytes, type BlobStore } from '../blobs/index.ts';
import type { Upload } from '../uploads/uploads.ts';
import { formatSlug, planFirstFrame, type Focus, type FramePlan, type Rect, type VideoFormat } from './formats.ts';

/**
 * The first frame MiniMax gets: the seller's photo cut to the chosen format with sharp. Kept as
 * a file beside the photo, named by its inputs (format and focus), so the preview the page
 * shows and the frame the worker sends are one and the same file.
 */

/** A stored photo or frame larger than this is not read into memory (uploads are re-encoded JPEGs of at most 10 MB sources). */
export const MAX_FRAME_BYTES = 32 * 1024 * 1024;
/** The crop beside a frame is a few numbers of JSON. */
const MAX_CROP_BYTES = 4096;

export interface FirstFrameRequest {
  blobs: BlobStore;
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
export function firstFrameFile(request: Omit<FirstFrameRequest, 'blobs'>): string {
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
  return (await firstFrameWithCrop(request)).path;
}

/**
 * The frame and the part of the photo it shows (photo pixels), so the page can turn a tap on
 * the frame into a focus point. Where attention placed the crop is kept beside the frame
 * (`.crop.json`); a focused crop is the plan's.
 */
export async function firstFrameWithCrop(request: FirstFrameRequest): Promise<{ path: string; crop: Rect | null }> {
  const relative = firstFrameFile(request);
  const { upload } = request;
  if (request.format === 'original') return { path: relative, crop: { left: 0, top: 0, width: upload.width, height: upload.height } };
  const plan = requireFramePlan(upload, request.format, request.focus);
  const { blobs } = request;
  const sidecar = `${relative}.crop.json`;
  if (await blobs.exists(relative)) {
    if (request.focus) return { path: relative, crop: plan.crop };
    try {
      return { path: relative, crop: JSON.parse((await readBlobBytes(blobs, sidecar, MAX_CROP_BYTES)).toString('utf8')) as Rect };
    } catch (err) {
      // A frame made before crops were kept has none; a store that fails is the store's error.
      if (isBlobNotFound(err) || err instanceof SyntaxError) return { path: relative, crop: null };
      throw err;
    }
  }
  // Read first: a missing photo is BLOB_NOT_FOUND, which the worker knows (IMAGE_MISSING), not a sharp error.
  const source = sharp(await readBlobBytes(blobs, upload.path, MAX_FRAME_BYTES));
  let crop = plan.crop;
  let jpeg: Buffer;
  if (request.focus) {
    jpeg = await source.extract(plan.crop).resize(plan.output.width, plan.output.height, { fit: 'fill' }).jpeg({ quality: 90, mozjpeg: true }).toBuffer();
  } else {
    const made = await source
      .resize(plan.output.width, plan.output.height, { fit: 'cover', position: sharp.strategy.attention })
      .jpeg({ quality: 90, mozjpeg: true })
      .toBuffer({ resolveWithObject: true });
    jpeg = made.data;
    // sharp reports where it cut in the resized picture (negative offsets); back to photo pixels.
    const scale = plan.output.width / plan.crop.width;
    const left = Math.round(-(made.info.cropOffsetLeft ?? 0) / scale);
    const top = Math.round(-(made.info.cropOffsetTop ?? 0) / scale);
    crop = { ...plan.crop, left: Math.min(upload.width - plan.crop.width, Math.max(0, left)), top: Math.min(upload.height - plan.crop.height, Math.max(0, top)) };
    await blobs.put(sidecar, Readable.from([Buffer.from(JSON.stringify(crop))]), { contentType: 'application/json' });
  }
  await blobs.put(relative, Readable.from([jpeg]), { contentType: 'image/jpeg' });
  return { path: relative, crop };
}
