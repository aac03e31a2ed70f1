import type { Db } from '../db/index.ts';
import { normaliseImage } from './image.ts';
import { readImageField } from './multipart.ts';
import { saveUpload, uploadPreviewUrl } from './uploads.ts';

export interface AcceptedUpload {
  uploadId: string;
  width: number;
  height: number;
  previewUrl: string;
}

export interface AcceptUploadOptions {
  db: Db;
  storageDir: string;
  userId: string;
  now: number;
}

/** `POST /api/upload-image`: read the form's photo, check and re-encode it, store it as the current image. */
export async function acceptImageUpload(request: Request, options: AcceptUploadOptions): Promise<AcceptedUpload> {
  const file = await readImageField(request);
  const image = await normaliseImage(file.bytes);
  const upload = await saveUpload({ ...options, image, originalName: file.name });
  return { uploadId: upload.id, width: upload.width, height: upload.height, previewUrl: uploadPreviewUrl(upload) };
}
