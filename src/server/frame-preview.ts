import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppContext } from '../lib/context.ts';
import { isAppError } from '../lib/errors.ts';
import { localeOfNodeRequest, sendJson } from '../lib/http/node-kit.ts';
import { t } from '../lib/i18n/index.ts';
import type { Upload } from '../lib/uploads/uploads.ts';
import { firstFrameWithCrop } from '../lib/video/first-frame.ts';
import { parseFormatChoice } from '../lib/video/format-choice.ts';

/** A seller's error from the video module, with its parameters in the message (the photo's sizes). */
export function sendVideoError(req: IncomingMessage, res: ServerResponse, err: unknown, headers: Record<string, string> = {}): boolean {
  if (!isAppError(err) || err.status >= 500) return false;
  const locale = localeOfNodeRequest(req);
  sendJson(res, err.status, { success: false, code: err.code, field: err.field, error: t(locale, `errors.${err.code}`, err.params ?? {}) }, headers);
  return true;
}

/**
 * `?format=3:4&fx=0.5&fy=0.3` on the photo's address: the first frame exactly as the worker will
 * send it (the same file). Answers the seller's error itself and returns null when the photo
 * cannot be cut to that format.
 */
export async function previewFrame(ctx: AppContext, req: IncomingMessage, res: ServerResponse, upload: Upload, query: URLSearchParams): Promise<string | null> {
  const fx = query.get('fx');
  const fy = query.get('fy');
  try {
    const choice = parseFormatChoice({
      format: query.get('format'),
      focus: fx !== null || fy !== null ? { x: fx === null ? NaN : Number(fx), y: fy === null ? NaN : Number(fy) } : null,
    });
    const frame = await firstFrameWithCrop({ blobs: ctx.blobs, upload, format: choice.format, focus: choice.focus });
    // Where the frame sits in the photo (photo pixels), so the page maps a tap to a focus point.
    if (frame.crop) {
      const { left, top, width, height } = frame.crop;
      res.setHeader('X-Frame-Crop', `${left},${top},${width},${height},${upload.width},${upload.height}`);
    }
    return frame.path;
  } catch (err) {
    if (!sendVideoError(req, res, err)) throw err;
    return null;
  }
}
