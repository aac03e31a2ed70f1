import type { Database } from '../db/database.ts';
import { newId } from '../ids.ts';
import { Readable } from 'node:stream';
import { relativeUserFile } from '../storage.ts';
import type { BlobStore } from '../blobs/index.ts';
import type { NormalisedImage } from './image.ts';
import { readRow } from '../db/row.ts';

export interface Upload {
  id: string;
  userId: string;
  /** Relative to STORAGE_DIR. */
  path: string;
  mime: string;
  width: number;
  height: number;
  bytes: number;
  createdAt: number;
}

export interface SaveUploadOptions {
  db: Database;
  blobs: BlobStore;
  userId: string;
  image: NormalisedImage;
  originalName: string | null;
  now: number;
}

const COLUMNS = 'id, userId, path, mime, width, height, bytes, createdAt';

/** The one mapper of `uploads` rows. */
function rowToUpload(row: Record<string, unknown>): Upload {
  const r = readRow('uploads', row);
  return {
    id: r.text('id'),
    userId: r.text('userId'),
    path: r.text('path'),
    mime: r.text('mime'),
    width: r.int('width'),
    height: r.int('height'),
    bytes: r.int('bytes'),
    createdAt: r.int('createdAt'),
  };
}

/** Stores the re-encoded photo under a server-made name; it becomes the user's current image. */
export async function saveUpload(options: SaveUploadOptions): Promise<Upload> {
  const { db, blobs, userId, image, now } = options;
  const id = newId('upl', now);
  const relative = relativeUserFile(userId, 'uploads', `${id}.jpg`);
  // Stored before its row: a listed upload always has its file.
  await blobs.put(relative, Readable.from([image.jpeg]), { contentType: 'image/jpeg' });
  const upload: Upload = {
    id,
    userId,
    path: relative,
    mime: 'image/jpeg',
    width: image.width,
    height: image.height,
    bytes: image.jpeg.length,
    createdAt: now,
  };
  await db.run(
    `INSERT INTO uploads (id, userId, path, mime, width, height, bytes, original_name, createdAt)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [id, userId, relative, upload.mime, upload.width, upload.height, upload.bytes, options.originalName?.slice(0, 200) ?? null, now],
  );
  return upload;
}

export async function getUpload(db: Database, id: string): Promise<Upload | null> {
  const row = await db.get(`SELECT ${COLUMNS} FROM uploads WHERE id = ?`, [id]);
  return row ? rowToUpload(row) : null;
}

/** The spec's "current image": the user's newest upload. */
export async function getCurrentUpload(db: Database, userId: string): Promise<Upload | null> {
  const row = await db.get(`SELECT ${COLUMNS} FROM uploads WHERE userId = ? ORDER BY createdAt DESC, rowid DESC LIMIT 1`, [userId]);
  return row ? rowToUpload(row) : null;
}

export function uploadPreviewUrl(upload: Pick<Upload, 'id'>): string {
  return `/api/uploads/${upload.id}`;
}
