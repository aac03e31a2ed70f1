import path from 'node:path';

/**
 * User files live under `users/<userId>/{uploads,videos}/` with names the server makes; the
 * database keeps these relative paths, and they are the keys of the blob store
 * (src/lib/blobs): files under STORAGE_DIR, or objects of the same names in a bucket.
 */
export type StorageArea = 'uploads' | 'videos';

export function relativeUserFile(userId: string, area: StorageArea, fileName: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(userId) || !/^[A-Za-z0-9_.-]+$/.test(fileName)) {
    throw new Error(`unsafe storage name: ${userId}/${fileName}`);
  }
  return path.posix.join('users', userId, area, fileName);
}
