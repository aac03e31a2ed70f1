import type { Readable } from 'node:stream';

/**
 * The one seam for Beem's files (issue 19): uploads, videos, posters, first frames and
 * exports. The same service code runs on the local `STORAGE_DIR` (one process, the default)
 * and on a private S3-compatible bucket (web and worker processes on several machines).
 *
 * A key is the relative path the database stores today (`users/<id>/videos/<name>.mp4`).
 * Bytes always stream: nothing here holds a whole file in memory (`readBlobBytes` alone reads
 * small blobs, photos and frames, whole, under a cap it is given).
 *
 * Serving: files reach the browser through Beem's own route (owner checked there), which
 * streams `openRead` with the client's Range — never a redirect to a presigned bucket URL.
 * Why: the pages' Content-Security-Policy allows media only from 'self' (a 302 to the bucket
 * would be blocked for <video>), the bucket's endpoint is often an internal address
 * (compose, a private network) that browsers cannot reach, a presigned URL cannot carry
 * `X-Content-Type-Options: nosniff`, and a long video seeked after the URL expired would
 * fail mid-play. The cost is that video bytes pass through the web process, with bounded
 * memory (a stream pipeline with backpressure, measured by `npm run bench -- blobs`).
 */

export interface BlobInfo {
  /** Bytes of the whole blob. */
  size: number;
  /** Milliseconds since the epoch. */
  lastModified: number;
  /** Changes whenever the content does (for HTTP `ETag`), quoted as HTTP wants it. */
  etag: string;
}

/** Inclusive byte positions, as HTTP Range counts them; `end` past the last byte means "to the end". */
export interface ByteRange {
  start: number;
  end?: number;
}

export interface BlobRead {
  body: Readable;
  info: BlobInfo;
  /** The bytes the body holds: the range clipped to the blob (`end` inclusive). */
  start: number;
  end: number;
}

export interface PutOptions {
  /** Stored with the object on S3 (ignored on disk, where the route sets the type). */
  contentType?: string;
}

export interface BlobStore {
  readonly kind: 'local' | 's3';
  /**
   * Stores a stream under `key`, replacing what was there; readers see the old or the new blob,
   * never a part. A source that fails (a download over its size cap) makes `put` throw the
   * source's own error, and what was stored before stays.
   */
  put(key: string, body: Readable, options?: PutOptions): Promise<BlobInfo>;
  /** Stores a local file (an ffmpeg output); the file itself is left where it is (a missing one: its ENOENT). */
  putFile(key: string, file: string, options?: PutOptions): Promise<BlobInfo>;
  /**
   * Runs `make` with the path of a new local file for it to write (an ffmpeg or sharp output),
   * then stores that file under `key` and removes it: on disk it is a temporary file beside
   * the target, renamed into place (no copy); on S3 a scratch file, uploaded. A `make` that
   * throws stores nothing and `putMadeFile` throws that error. The path's name may not end
   * in the key's extension: writers name their output format themselves.
   */
  putMadeFile<T>(key: string, make: (file: string) => Promise<T>, options?: PutOptions): Promise<{ made: T; info: BlobInfo }>;
  /** Size, date and tag, or null when there is no such blob. */
  head(key: string): Promise<BlobInfo | null>;
  exists(key: string): Promise<boolean>;
  /** Opens the blob (or a range of it). Throws `BLOB_NOT_FOUND`, or `BLOB_RANGE_NOT_SATISFIABLE` when `start` is past the end. */
  openRead(key: string, range?: ByteRange): Promise<BlobRead>;
  /** Removes the blob; removing one that is not there is not an error. */
  delete(key: string): Promise<void>;
  /**
   * Runs `fn` with a path of a local file holding the blob (ffmpeg and sharp read files): on
   * disk the stored file itself, on S3 a temporary copy that is removed when `fn` settles.
   * `fn` MUST NOT write to the path. Throws `BLOB_NOT_FOUND`.
   */
  withLocalFile<T>(key: string, fn: (file: string) => Promise<T>): Promise<T>;
  /**
   * At start: writes, reads back and deletes a small probe under a name no key can have, so a
   * wrong bucket, key or permission stops the start with the store's answer instead of
   * failing the first upload (a HEAD alone cannot tell a missing bucket from a missing key).
   */
  verify(): Promise<void>;
  /** Releases the store's connections (S3) at shutdown; it is not used afterwards. */
  close(): void;
}

export type BlobErrorCode =
  | 'BLOB_NOT_FOUND'
  | 'BLOB_KEY_INVALID'
  | 'BLOB_RANGE_NOT_SATISFIABLE'
  /** `readBlobBytes` of a blob larger than its caller's cap. */
  | 'BLOB_TOO_LARGE'
  /** The store failed (after the SDK's retries for S3): network, credentials, bucket, disk. */
  | 'BLOB_STORAGE_FAILED';

/** The one error the stores throw; `key` and the operation are in the message for the operator. */
export class BlobStoreError extends Error {
  constructor(
    readonly code: BlobErrorCode,
    readonly key: string,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
    this.name = 'BlobStoreError';
  }
}

export function isBlobNotFound(err: unknown): boolean {
  return err instanceof BlobStoreError && err.code === 'BLOB_NOT_FOUND';
}

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
export const MAX_KEY_LENGTH = 512;

/**
 * Refuses a key that is not a plain relative path of server-made names: no `..`, no `.` or
 * empty segments, no leading `/`, no segment starting with a dot (the local store's
 * temporary files start with one, so no key can name them), nothing but `[A-Za-z0-9_.-]`.
 */
export function checkBlobKey(key: string): string {
  const segments = key.split('/');
  if (key.length === 0 || key.length > MAX_KEY_LENGTH || !segments.every((segment) => SEGMENT.test(segment))) {
    throw new BlobStoreError('BLOB_KEY_INVALID', key, `refused storage key: ${JSON.stringify(key.slice(0, 100))}`);
  }
  return key;
}

/** Clips a requested range to a blob of `size` bytes; null when it starts past the end. */
export function clipRange(range: ByteRange | undefined, size: number): { start: number; end: number } | null {
  const start = range?.start ?? 0;
  if (!Number.isSafeInteger(start) || start < 0) return null;
  if (size === 0 && start === 0 && range?.end === undefined) return { start: 0, end: -1 };
  if (start >= size) return null;
  const end = Math.min(range?.end ?? size - 1, size - 1);
  return end < start ? null : { start, end };
}
