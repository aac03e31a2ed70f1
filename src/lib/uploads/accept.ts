import type { Database } from '../db/database.ts';
import type { BlobStore } from '../blobs/index.ts';
import { normaliseImage } from './image.ts';
import { saveUpload, uploadPreviewUrl } from './uploads.ts';

export interface AcceptedUpload {
  uploadId: string;
  width: number;
  height: number;
  previewUrl: string;
}

export interface AcceptUploadOptions {
  db: Database;
  blobs: BlobStore;
  userId: string;
  now: number;
}

/** The photo of `POST /api/upload-image`, read by the web layer (src/lib/http/multipart.ts). */
export interface UploadedFile {
  bytes: Buffer;
  name: string | null;
}

/** Checks and re-encodes an uploaded photo and stores it as the user's current image. */
export async function acceptImageUpload(file: UploadedFile, options: AcceptUploadOptions): Promise<AcceptedUpload> {
  const image = await normaliseImage(file.bytes);
  const upload = await saveUpload({ ...options, image, originalName: file.name });
  return { uploadId: upload.id, width: upload.width, height: upload.height, previewUrl: uploadPreviewUrl(upload) };
}
