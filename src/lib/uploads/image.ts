import sharp from 'sharp';
import { AppError, badRequest } from '../errors.ts';

export type ImageType = 'jpeg' | 'png' | 'webp';

/** The largest upload accepted (spec: 10 MB). */
export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
/** MiniMax refuses a first frame whose shorter side is 300 px or less (reference §3). */
export const MIN_SHORT_SIDE = 301;
/** MiniMax accepts aspect ratios from 2:5 to 5:2. */
export const MAX_ASPECT = 5 / 2;
/** Larger photos are scaled down: MiniMax renders at most 1080p, and data URLs stay small. */
export const MAX_LONG_SIDE = 2048;
const MAX_INPUT_PIXELS = 100_000_000;

/** The type by the file's own bytes; the name and the declared type are not trusted. */
export function detectImageType(bytes: Uint8Array): ImageType | null {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length >= 8 && png.every((b, i) => bytes[i] === b)) return 'png';
  const ascii = (from: number, to: number) => Buffer.from(bytes.subarray(from, to)).toString('latin1');
  if (bytes.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  return null;
}

/** Why a photo cannot be used, as a code for the message catalogue; null when it is fine. */
export function checkImageDimensions(width: number, height: number): { code: string; params: Record<string, number> } | null {
  const short = Math.min(width, height);
  const long = Math.max(width, height);
  if (short < MIN_SHORT_SIDE) return { code: 'IMAGE_TOO_SMALL', params: { width, height, min: MIN_SHORT_SIDE } };
  if (long / short > MAX_ASPECT) return { code: 'IMAGE_BAD_ASPECT', params: { width, height } };
  return null;
}

export interface NormalisedImage {
  jpeg: Buffer;
  width: number;
  height: number;
  sourceType: ImageType;
}

/**
 * Decodes the photo, applies its EXIF rotation, checks MiniMax's limits on the upright
 * picture, scales very large ones down and re-encodes as JPEG without metadata (location
 * and camera data never reach our disk or MiniMax).
 */
export async function normaliseImage(input: Buffer): Promise<NormalisedImage> {
  const sourceType = detectImageType(input);
  if (!sourceType) throw badRequest('IMAGE_TYPE_UNSUPPORTED', 'image');

  let upright: { width: number; height: number };
  try {
    const meta = await sharp(input, { limitInputPixels: MAX_INPUT_PIXELS }).metadata();
    // The decoder must agree with the magic bytes: a file that only starts like a JPEG is refused.
    if (meta.format !== sourceType) throw new Error(`decoded as ${meta.format}, bytes say ${sourceType}`);
    upright = meta.autoOrient;
  } catch (err) {
    throw new AppError('IMAGE_UNREADABLE', { status: 400, field: 'image', cause: err });
  }
  const problem = checkImageDimensions(upright.width, upright.height);
  if (problem) throw new AppError(problem.code, { status: 400, field: 'image', params: problem.params });

  try {
    const { data, info } = await sharp(input, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error' })
      .autoOrient()
      .resize({ width: MAX_LONG_SIDE, height: MAX_LONG_SIDE, fit: 'inside', withoutEnlargement: true })
      .flatten({ background: '#ffffff' })
      .jpeg({ quality: 90, mozjpeg: true })
      .toBuffer({ resolveWithObject: true });
    return { jpeg: data, width: info.width, height: info.height, sourceType };
  } catch (err) {
    throw new AppError('IMAGE_UNREADABLE', { status: 400, field: 'image', cause: err });
  }
}
