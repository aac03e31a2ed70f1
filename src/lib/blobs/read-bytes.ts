import { BlobStoreError, type BlobStore } from './blob-store.ts';

/**
 * A small blob (a photo, a first frame: the worker sends it to MiniMax as a data URL) read
 * into memory, refused past `maxBytes` before anything is read, so a wrong key can never
 * pull a 500 MB video into a buffer. Large files stream (`openRead`, `withLocalFile`).
 */
export async function readBlobBytes(store: BlobStore, key: string, maxBytes: number): Promise<Buffer> {
  const { body, info } = await store.openRead(key);
  if (info.size > maxBytes) {
    body.destroy();
    throw new BlobStoreError('BLOB_TOO_LARGE', key, `${key} is ${info.size} bytes, more than the ${maxBytes} read into memory`);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
