import { AppError, badRequest } from '../errors.ts';
import { readBodyWithLimit } from './limited-body.ts';
import { MAX_UPLOAD_BYTES } from '../uploads/image.ts';
import type { UploadedFile } from '../uploads/accept.ts';

/** A 10 MB photo plus room for the multipart boundaries and part headers. */
export const UPLOAD_REQUEST_LIMIT = MAX_UPLOAD_BYTES + 64 * 1024;


/**
 * The `image` field of a multipart form, read with the 10 MB limit enforced while the
 * body arrives (a bigger body is refused before it has been read).
 */
export async function readImageField(request: Request): Promise<UploadedFile> {
  const type = request.headers.get('content-type') ?? '';
  if (!type.toLowerCase().startsWith('multipart/form-data')) throw badRequest('IMAGE_MISSING', 'image');
  const body = await readBodyWithLimit(request, UPLOAD_REQUEST_LIMIT, 'IMAGE_TOO_LARGE');
  let form: FormData;
  try {
    form = await new Response(new Uint8Array(body), { headers: { 'content-type': type } }).formData();
  } catch {
    throw badRequest('IMAGE_MISSING', 'image');
  }
  const file = form.get('image');
  if (!file || typeof file === 'string') throw badRequest('IMAGE_MISSING', 'image');
  if (file.size > MAX_UPLOAD_BYTES) {
    throw new AppError('IMAGE_TOO_LARGE', { status: 413, field: 'image', params: { limitMb: 10 } });
  }
  if (file.size === 0) throw badRequest('IMAGE_MISSING', 'image');
  return { bytes: Buffer.from(await file.arrayBuffer()), name: file.name || null };
}
