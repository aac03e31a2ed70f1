import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * User files live under `STORAGE_DIR/users/<userId>/{uploads,videos}/` with names the
 * server makes; the database keeps paths relative to STORAGE_DIR so the folder can move.
 */
export type StorageArea = 'uploads' | 'videos';

export function relativeUserFile(userId: string, area: StorageArea, fileName: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(userId) || !/^[A-Za-z0-9_.-]+$/.test(fileName)) {
    throw new Error(`unsafe storage name: ${userId}/${fileName}`);
  }
  return path.posix.join('users', userId, area, fileName);
}

/** Absolute path of a stored relative path; refuses anything that would leave the storage folder. */
export function resolveStored(storageDir: string, relative: string): string {
  const root = path.resolve(storageDir);
  const full = path.resolve(root, relative);
  if (!full.startsWith(root + path.sep)) throw new Error(`path outside storage: ${relative}`);
  return full;
}

/**
 * Writes a small file whole or not at all: a temporary name, fsync, then rename. The temporary
 * name is unique, so two writers of the same file (a preview and the worker) never share one.
 */
export async function writeFileAtomic(file: string, data: Uint8Array): Promise<void> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  const part = `${file}.${randomBytes(4).toString('hex')}.part`;
  const handle = await fs.promises.open(part, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.promises.rename(part, file);
}
