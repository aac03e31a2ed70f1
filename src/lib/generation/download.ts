import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { BlobStoreError, type BlobStore } from '../blobs/index.ts';

/**
 * Fetches a finished video from MiniMax's CDN into the blob store with bounded memory:
 * `fetch` → `Readable.fromWeb` → a byte counter and MP4 check → `store.put` (on disk a
 * temporary file, fsync, rename; on S3 a multipart upload). Only a URL from MiniMax's own
 * API reaches here, and only https to a listed host (plain http only for listed loopback
 * hosts: the sandbox). Redirects are followed only to listed hosts; the size cap is counted
 * while streaming; the whole download has a timeout; the bytes must be an MP4 (an `ftyp` box
 * first): a source that fails any check fails the put, so nothing is kept.
 */

export type DownloadErrorCode =
  | 'DOWNLOAD_HOST_NOT_ALLOWED'
  | 'DOWNLOAD_REDIRECT_REFUSED'
  | 'DOWNLOAD_URL_EXPIRED'
  | 'DOWNLOAD_HTTP_ERROR'
  | 'DOWNLOAD_TOO_LARGE'
  | 'DOWNLOAD_TIMEOUT'
  | 'DOWNLOAD_NETWORK'
  | 'DOWNLOAD_NOT_MP4'
  | 'DOWNLOAD_ABORTED'
  /** The store refused or lost the bytes (after the S3 SDK's own retries): the download is tried again. */
  | 'DOWNLOAD_STORAGE_FAILED';

const NOT_RETRYABLE: DownloadErrorCode[] = ['DOWNLOAD_HOST_NOT_ALLOWED', 'DOWNLOAD_REDIRECT_REFUSED', 'DOWNLOAD_TOO_LARGE'];

export class DownloadError extends Error {
  readonly retryable: boolean;
  constructor(
    readonly code: DownloadErrorCode,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
    this.name = 'DownloadError';
    this.retryable = !NOT_RETRYABLE.includes(code);
  }
}

export interface DownloadOptions {
  url: string;
  store: BlobStore;
  /** The blob's key; it appears there only when complete and checked. */
  key: string;
  allowedHosts: string[];
  maxBytes: number;
  timeoutMs: number;
  /** Aborts the download (worker shutdown). */
  signal?: AbortSignal;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
const MAX_REDIRECTS = 3;

/** Throws unless the URL may be fetched: https (or http on a listed loopback host) to a listed host. */
export function checkDownloadUrl(raw: string, allowedHosts: string[]): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new DownloadError('DOWNLOAD_HOST_NOT_ALLOWED', 'download URL is not a URL');
  }
  const listed = allowedHosts.some((h) => h.toLowerCase() === url.host.toLowerCase() || h.toLowerCase() === url.hostname.toLowerCase());
  if (!listed) throw new DownloadError('DOWNLOAD_HOST_NOT_ALLOWED', `host ${url.host} is not in MINIMAX_DOWNLOAD_HOSTS`);
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && LOOPBACK.has(url.hostname)) return url;
  throw new DownloadError('DOWNLOAD_HOST_NOT_ALLOWED', `${url.protocol} is not allowed for ${url.host}`);
}

/** An MP4 (ISO BMFF) file starts with a box whose type is `ftyp`. */
export function looksLikeMp4(head: Uint8Array): boolean {
  return head.length >= 8 && Buffer.from(head.subarray(4, 8)).toString('latin1') === 'ftyp';
}

export async function downloadVideo(options: DownloadOptions): Promise<{ bytes: number }> {
  const signals = [AbortSignal.timeout(options.timeoutMs)];
  if (options.signal) signals.push(options.signal);
  const signal = AbortSignal.any(signals);

  const failure = (err: unknown): DownloadError => {
    if (err instanceof DownloadError) return err;
    if (options.signal?.aborted) return new DownloadError('DOWNLOAD_ABORTED', 'download stopped', { cause: err });
    if (signal.aborted) return new DownloadError('DOWNLOAD_TIMEOUT', `no complete video within ${options.timeoutMs} ms`, { cause: err });
    if (err instanceof BlobStoreError) return new DownloadError('DOWNLOAD_STORAGE_FAILED', `storing the video failed: ${err.message}`, { cause: err });
    return new DownloadError('DOWNLOAD_NETWORK', err instanceof Error ? err.message : String(err), { cause: err });
  };

  try {
    let url = checkDownloadUrl(options.url, options.allowedHosts);
    let response: Response | null = null;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      response = await fetch(url, { redirect: 'manual', signal });
      if (response.status < 300 || response.status >= 400) break;
      await response.body?.cancel();
      const location = response.headers.get('location');
      if (!location || hop === MAX_REDIRECTS) throw new DownloadError('DOWNLOAD_REDIRECT_REFUSED', 'too many or empty redirects');
      try {
        url = checkDownloadUrl(new URL(location, url).href, options.allowedHosts);
      } catch {
        throw new DownloadError('DOWNLOAD_REDIRECT_REFUSED', `redirect to an unlisted place refused`);
      }
    }
    if (!response) throw new DownloadError('DOWNLOAD_NETWORK', 'no response');
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      // A CDN answers 403/404/410 for an expired signed URL; a fresh one comes from retrieve.
      const expired = [401, 403, 404, 410].includes(response.status);
      throw new DownloadError(expired ? 'DOWNLOAD_URL_EXPIRED' : 'DOWNLOAD_HTTP_ERROR', `CDN answered HTTP ${response.status}`);
    }
    const declared = Number(response.headers.get('content-length') ?? NaN);
    if (Number.isFinite(declared) && declared > options.maxBytes) {
      await response.body.cancel();
      throw new DownloadError('DOWNLOAD_TOO_LARGE', `video is ${declared} bytes, limit ${options.maxBytes}`);
    }

    const source = Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>, { signal });
    const counted = { bytes: 0 };
    await options.store.put(options.key, Readable.from(checkedVideo(source, options.maxBytes, counted), { objectMode: false }), { contentType: 'video/mp4' });
    return { bytes: counted.bytes };
  } catch (err) {
    throw failure(err);
  }
}

/**
 * The download's bytes, passed on while they keep within the size cap and start like an MP4.
 * A check that fails throws here, which fails the store's put: nothing is kept.
 */
async function* checkedVideo(source: Readable, maxBytes: number, counted: { bytes: number }): AsyncGenerator<Buffer> {
  let head = Buffer.alloc(0);
  for await (const chunk of source as AsyncIterable<Buffer>) {
    counted.bytes += chunk.length;
    if (counted.bytes > maxBytes) throw new DownloadError('DOWNLOAD_TOO_LARGE', `video passed the ${maxBytes}-byte limit`);
    if (head.length < 8) {
      head = Buffer.concat([head, chunk.subarray(0, 8 - head.length)]);
      if (head.length === 8 && !looksLikeMp4(head)) throw new DownloadError('DOWNLOAD_NOT_MP4', 'the downloaded file is not an MP4 video');
    }
    yield chunk;
  }
  if (!looksLikeMp4(head)) throw new DownloadError('DOWNLOAD_NOT_MP4', 'the downloaded file is not an MP4 video');
}
