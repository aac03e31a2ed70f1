import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { BlobStoreError, checkBlobKey, type BlobInfo, type BlobRead, type BlobStore, type ByteRange, type PutOptions } from './blob-store.ts';

/**
 * Blobs in a private S3-compatible bucket (Yandex Object Storage, VK Cloud, Selectel, MinIO,
 * AWS). Requests are signed (SigV4) with the configured key; nothing here makes an object
 * public. Writes stream through the SDK's multipart `Upload`, which holds at most
 * `partSize × queueSize` bytes at once; reads stream the response body.
 *
 * Retries: the SDK's standard mode retries throttling, 5xx and network errors with capped
 * exponential backoff and jitter. That is safe for every call here: a part is a buffer the
 * SDK can send again, a PUT or DELETE of the same key is idempotent, and a read only starts
 * streaming after its response arrived. What still fails surfaces as one `BlobStoreError`.
 */

export interface S3StoreOptions {
  endpoint: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle: boolean;
  /** Where `withLocalFile` puts its temporary copies (a disk, not a RAM-backed /tmp: videos are up to 500 MB). */
  scratchDir: string;
  /** Bytes per multipart part (S3's minimum is 5 MiB); a smaller blob goes as one PUT. */
  partSize?: number;
  /** Parts in flight at once per upload. */
  queueSize?: number;
  /** Attempts per request, the first included. */
  maxAttempts?: number;
}

/** A temporary copy older than this was left by a process that died (ffmpeg runs take minutes at most). */
export const STALE_COPY_MS = 6 * 60 * 60 * 1000;

/** Removes copies for ffmpeg older than `before` (a process killed mid-export leaves its copy); never throws. */
async function removeStaleCopies(scratchDir: string, before: number): Promise<void> {
  const entries = await fs.promises.readdir(scratchDir).catch(() => [] as string[]);
  for (const name of entries.filter((entry) => entry.startsWith('blob-'))) {
    const folder = path.join(scratchDir, name);
    const stat = await fs.promises.stat(folder).catch(() => null);
    if (stat && stat.mtimeMs < before) await fs.promises.rm(folder, { recursive: true, force: true }).catch(() => undefined);
  }
}

export const DEFAULT_PART_SIZE = 5 * 1024 * 1024;
export const MIN_PART_SIZE = 5 * 1024 * 1024;

export function createS3BlobStore(options: S3StoreOptions): BlobStore {
  const partSize = options.partSize ?? DEFAULT_PART_SIZE;
  if (partSize < MIN_PART_SIZE) throw new Error(`S3 part size ${partSize} is below S3's minimum of ${MIN_PART_SIZE} bytes`);
  const queueSize = options.queueSize ?? 2;
  const Bucket = options.bucket;
  const client = new S3Client({
    endpoint: options.endpoint,
    region: options.region,
    forcePathStyle: options.forcePathStyle,
    credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
    maxAttempts: options.maxAttempts ?? 4,
    retryMode: 'standard',
    // Checksums only where S3 requires them: the SDK's default trailing CRC32 (aws-chunked
    // uploads) is refused by several S3-compatible stores.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // requestTimeout is the socket's idle limit: a read paused by a slow client (a paused video)
    // longer than this ends, and the browser asks again with a Range when it plays on.
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 120_000 },
  });

  const failure = (operation: string, key: string, err: unknown): BlobStoreError => {
    if (err instanceof BlobStoreError) return err;
    const name = err instanceof S3ServiceException ? err.name : (err as Error | undefined)?.name;
    if (name === 'NoSuchKey') return new BlobStoreError('BLOB_NOT_FOUND', key, `no object ${key} in bucket ${Bucket}`, { cause: err });
    if (name === 'InvalidRange') return new BlobStoreError('BLOB_RANGE_NOT_SATISFIABLE', key, `range starts past the end of ${key}`, { cause: err });
    const status = err instanceof S3ServiceException ? ` (HTTP ${err.$metadata.httpStatusCode ?? '?'})` : '';
    return new BlobStoreError('BLOB_STORAGE_FAILED', key, `S3 ${operation} ${Bucket}/${key} failed: ${name ?? 'error'}${status}: ${(err as Error).message}`, {
      cause: err,
    });
  };

  /** Once per process, before its first copy: the sweep of copies a killed process left. */
  let stale: Promise<void> | null = null;

  const head = async (key: string): Promise<BlobInfo | null> => {
    checkBlobKey(key);
    try {
      const answer = await client.send(new HeadObjectCommand({ Bucket, Key: key }));
      return { size: answer.ContentLength ?? 0, lastModified: answer.LastModified?.getTime() ?? 0, etag: answer.ETag ?? '""' };
    } catch (err) {
      // A HEAD answer has no body, so a missing key is only its 404 (named NotFound).
      if (err instanceof S3ServiceException && err.$metadata.httpStatusCode === 404) return null;
      throw failure('head', key, err);
    }
  };

  const upload = async (key: string, body: Readable, put: PutOptions = {}): Promise<BlobInfo> => {
    checkBlobKey(key);
    try {
      // leavePartsOnError false: a failed upload aborts its multipart upload, so no parts stay billed.
      await new Upload({ client, params: { Bucket, Key: key, Body: body, ContentType: put.contentType }, partSize, queueSize, leavePartsOnError: false }).done();
    } catch (err) {
      // A source that failed (a download over its size cap) throws its own error, not a storage failure.
      if (body.errored) throw body.errored;
      body.destroy();
      throw failure('upload', key, err);
    }
    const info = await head(key);
    if (!info) throw new BlobStoreError('BLOB_STORAGE_FAILED', key, `S3 upload of ${Bucket}/${key} finished but the object is not there`);
    return info;
  };

  const openRead = async (key: string, range?: ByteRange): Promise<BlobRead> => {
    checkBlobKey(key);
    const start = range?.start ?? 0;
    if (!Number.isSafeInteger(start) || start < 0) throw new BlobStoreError('BLOB_RANGE_NOT_SATISFIABLE', key, `bad range start ${start}`);
    // No Range header for the whole blob: S3 refuses `bytes=0-` on an empty object.
    const header = start === 0 && range?.end === undefined ? undefined : `bytes=${start}-${range?.end ?? ''}`;
    try {
      const answer = await client.send(new GetObjectCommand({ Bucket, Key: key, Range: header }));
      if (header && !answer.ContentRange) {
        (answer.Body as Readable | undefined)?.destroy();
        throw new BlobStoreError('BLOB_STORAGE_FAILED', key, `S3 read of ${Bucket}/${key} ignored the Range header`);
      }
      const length = answer.ContentLength ?? 0;
      const total = answer.ContentRange ? Number(/\/(\d+)$/.exec(answer.ContentRange)?.[1]) : length;
      const info = { size: total, lastModified: answer.LastModified?.getTime() ?? 0, etag: answer.ETag ?? '""' };
      return { body: answer.Body as Readable, info, start, end: start + length - 1 };
    } catch (err) {
      throw failure('read', key, err);
    }
  };

  /** A new folder for local copies and outputs (ffmpeg, sharp); its name is one the stale sweep knows. */
  const scratchFolder = async (): Promise<string> => {
    await fs.promises.mkdir(options.scratchDir, { recursive: true });
    stale ??= removeStaleCopies(options.scratchDir, Date.now() - STALE_COPY_MS);
    await stale;
    return fs.promises.mkdtemp(path.join(options.scratchDir, 'blob-'));
  };

  return {
    kind: 's3',
    put: upload,
    async putFile(key: string, file: string, put?: PutOptions): Promise<BlobInfo> {
      checkBlobKey(key);
      // A missing source is the caller's (ffmpeg made no output): its own error, as from a stream.
      await fs.promises.access(file, fs.constants.R_OK);
      return upload(key, fs.createReadStream(file), put);
    },
    head,
    exists: async (key) => (await head(key)) !== null,
    openRead,

    async delete(key: string): Promise<void> {
      checkBlobKey(key);
      try {
        // S3 answers 204 for a key that is not there: deleting twice is fine by the protocol.
        await client.send(new DeleteObjectCommand({ Bucket, Key: key }));
      } catch (err) {
        throw failure('delete', key, err);
      }
    },

    async putMadeFile<T>(key: string, make: (file: string) => Promise<T>, put?: PutOptions): Promise<{ made: T; info: BlobInfo }> {
      checkBlobKey(key);
      const folder = await scratchFolder();
      try {
        const file = path.join(folder, path.posix.basename(key));
        const made = await make(file);
        return { made, info: await upload(key, fs.createReadStream(file), put) };
      } finally {
        await fs.promises.rm(folder, { recursive: true, force: true });
      }
    },

    async withLocalFile<T>(key: string, fn: (file: string) => Promise<T>): Promise<T> {
      checkBlobKey(key);
      const folder = await scratchFolder();
      try {
        // The key's own name keeps its extension: ffmpeg and sharp look at it.
        const file = path.join(folder, path.posix.basename(key));
        const { body } = await openRead(key);
        try {
          await pipeline(body, fs.createWriteStream(file, { flags: 'wx' }));
        } catch (err) {
          throw failure('download', key, err);
        }
        return await fn(file);
      } finally {
        await fs.promises.rm(folder, { recursive: true, force: true });
      }
    },

    async verify(): Promise<void> {
      // A dot name: `checkBlobKey` refuses it, so no file of Beem's can be this object. No
      // shared prefix either: processes starting together each write and delete their own, and a
      // store that keeps prefixes as folders (MinIO on a disk, s3rver) removes an emptied folder
      // with the other process's probe just put into it.
      const Key = `.beem-probe-${randomBytes(8).toString('hex')}`;
      try {
        await client.send(new PutObjectCommand({ Bucket, Key, Body: 'beem' }));
        const answer = await client.send(new GetObjectCommand({ Bucket, Key }));
        if ((await answer.Body?.transformToString()) !== 'beem') throw new Error('the probe object read back differently');
        await client.send(new DeleteObjectCommand({ Bucket, Key }));
      } catch (err) {
        throw failure('check (write, read, delete a probe)', Key, err);
      }
    },

    close: () => client.destroy(),
  };
}
