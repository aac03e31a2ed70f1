import path from 'node:path';
import type { Config, Secrets } from '../config.ts';
import type { BlobStore } from './blob-store.ts';
import { createLocalBlobStore } from './local-store.ts';
import { createS3BlobStore } from './s3-store.ts';

export type { BlobInfo, BlobRead, BlobStore, ByteRange, PutOptions } from './blob-store.ts';
export { BlobStoreError, isBlobNotFound } from './blob-store.ts';
export { serveBlob, type ServeBlobOptions } from './serve-blob.ts';
export { readBlobBytes } from './read-bytes.ts';

/**
 * The store the configuration names (`STORAGE=local|s3`). With S3, `STORAGE_DIR/.scratch`
 * holds the temporary copies ffmpeg reads (a dot folder: no key can name it).
 */
export function createBlobStore(
  config: Pick<Config, 'paths' | 'storage'>,
  secrets: Pick<Secrets, 's3SecretAccessKey'>,
  tuning: { partSize?: number } = {},
): BlobStore {
  if (config.storage.backend === 'local') return createLocalBlobStore(config.paths.storageDir);
  return createS3BlobStore({
    ...config.storage.s3,
    secretAccessKey: secrets.s3SecretAccessKey,
    scratchDir: path.join(config.paths.storageDir, '.scratch'),
    partSize: tuning.partSize,
  });
}
