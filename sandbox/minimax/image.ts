import sharp from 'sharp';
import type { Metadata } from 'sharp';

/**
 * Reads an image the way MiniMax accepts it (§3 image rules): a data URL or a public http(s)
 * URL; JPG/JPEG, PNG or WebP; under 20 MB; short side above 300 px; aspect ratio 2:5…5:2.
 */

export const MAX_IMAGE_BYTES = 20 * 1024 * 1024;
const FETCH_TIMEOUT_MS = 10_000;

export interface LoadedImage {
  bytes: Buffer;
  format: 'jpeg' | 'png' | 'webp';
  width: number;
  height: number;
}

export type ImageResult = { ok: true; image: LoadedImage } | { ok: false; message: string };

const fail = (detail: string): ImageResult => ({ ok: false, message: `invalid params, ${detail}` });

async function readSource(source: string, field: string): Promise<Buffer | string> {
  const dataUrl = /^data:image\/(jpeg|jpg|png|webp);base64,(.*)$/is.exec(source);
  if (dataUrl) {
    // base64 grows by 4/3: refuse before decoding a body that would be over the limit anyway.
    if ((dataUrl[2] ?? '').length > (MAX_IMAGE_BYTES * 4) / 3 + 4) return `${field} is larger than 20MB`;
    return Buffer.from(dataUrl[2] ?? '', 'base64');
  }
  if (source.startsWith('data:')) return `${field} must be a jpg, jpeg, png or webp data url`;
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    return `${field} must be a url or a data url`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `${field} must be a url or a data url`;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    if (!response.ok) return `${field} could not be downloaded (HTTP ${response.status})`;
    const bytes = Buffer.from(await response.arrayBuffer());
    if (bytes.length >= MAX_IMAGE_BYTES) return `${field} is larger than 20MB`;
    return bytes;
  } catch {
    return `${field} could not be downloaded`;
  }
}

export async function loadImage(source: string, field: string): Promise<ImageResult> {
  const bytes = await readSource(source, field);
  if (typeof bytes === 'string') return fail(bytes);
  if (bytes.length === 0) return fail(`${field} is empty`);
  if (bytes.length >= MAX_IMAGE_BYTES) return fail(`${field} is larger than 20MB`);
  let meta: Metadata;
  try {
    meta = await sharp(bytes).metadata();
  } catch {
    return fail(`${field} is not a readable image`);
  }
  const format = meta.format;
  if (format !== 'jpeg' && format !== 'png' && format !== 'webp') return fail(`${field} must be jpg, jpeg, png or webp`);
  // EXIF orientations 5–8 swap the sides the viewer sees.
  const swapped = (meta.orientation ?? 1) >= 5;
  const width = (swapped ? meta.height : meta.width) ?? 0;
  const height = (swapped ? meta.width : meta.height) ?? 0;
  if (Math.min(width, height) <= 300) return fail(`${field} short side must be larger than 300px`);
  const aspect = width / height;
  if (aspect < 2 / 5 || aspect > 5 / 2) return fail(`${field} aspect ratio must be between 2:5 and 5:2`);
  return { ok: true, image: { bytes, format, width, height } };
}
