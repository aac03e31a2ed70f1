import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { BlobStoreError, type BlobInfo, type BlobStore } from './blob-store.ts';
import { chooseRange } from './byte-ranges.ts';

/**
 * Streams a blob to the browser through Beem's own route (the route has checked the owner):
 * GET and HEAD, one `Range`, `If-None-Match`/`If-Range` on the blob's tag. Memory stays
 * bounded whatever the client's speed: `pipeline` waits for the socket to drain before it
 * reads on (DESIGN.md §1: a `Response` body that ignores drain grew 70 → 549 MB). Why
 * stream-through and not a presigned redirect: see blob-store.ts.
 */

export interface ServeBlobOptions {
  /** Headers of the answer (Content-Type, nosniff, Cache-Control, Content-Disposition), set on 200, 206 and 304. */
  headers: Record<string, string>;
}

/**
 * 'not-found': nothing was sent, the route answers its own 404. A store that fails before
 * the answer started throws `BlobStoreError` with nothing sent; one that fails mid-stream
 * cuts the connection (the client sees a short body, never a wrong one) and throws too.
 * A client that goes away mid-stream is not an error.
 */
export async function serveBlob(store: BlobStore, req: IncomingMessage, res: ServerResponse, key: string, options: ServeBlobOptions): Promise<'sent' | 'not-found'> {
  const info = await store.head(key);
  if (!info) return 'not-found';
  const ifNoneMatch = req.headers['if-none-match'];
  if (ifNoneMatch !== undefined && tagMatches(ifNoneMatch, info.etag)) {
    res.writeHead(304, { ...options.headers, ETag: info.etag });
    res.end();
    return 'sent';
  }
  // A stale If-Range (the file changed since the client's first part) gets the whole file.
  const ifRange = req.headers['if-range'];
  const rangeHeader = rangeStillFresh(Array.isArray(ifRange) ? ifRange[0] : ifRange, info) ? req.headers.range : undefined;
  const choice = chooseRange(rangeHeader, info.size);
  if (choice === 'unsatisfiable') return answerUnsatisfiable(res, info);
  if (req.method === 'HEAD') {
    const [status, headers] = choice === 'whole' ? [200, lengthHeaders(info, 0, info.size - 1)] : [206, lengthHeaders(info, choice.start, choice.end, true)];
    res.writeHead(status, { ...options.headers, ...headers });
    res.end();
    return 'sent';
  }

  let read;
  try {
    read = await store.openRead(key, choice === 'whole' ? undefined : choice);
  } catch (err) {
    // Deleted or shrunk between the HEAD and the read.
    if (err instanceof BlobStoreError && err.code === 'BLOB_NOT_FOUND') return 'not-found';
    if (err instanceof BlobStoreError && err.code === 'BLOB_RANGE_NOT_SATISFIABLE') return answerUnsatisfiable(res, info);
    throw err;
  }
  // Headers from the read itself: they describe the bytes that follow even if the blob was replaced since the HEAD.
  const partial = choice !== 'whole';
  res.writeHead(partial ? 206 : 200, { ...options.headers, ...lengthHeaders(read.info, read.start, read.end, partial) });
  // Which side broke first: a client that leaves makes the pipeline tear the store's stream
  // down too, and that is no storage failure.
  let clientLeft = false;
  res.once('close', () => {
    if (!res.writableFinished && !read.body.errored) clientLeft = true;
  });
  try {
    await pipeline(read.body, res);
  } catch (err) {
    res.destroy();
    if (clientLeft) return 'sent';
    throw err instanceof BlobStoreError ? err : new BlobStoreError('BLOB_STORAGE_FAILED', key, `streaming ${key} broke: ${(err as Error).message}`, { cause: err });
  }
  return 'sent';
}

function lengthHeaders(info: BlobInfo, start: number, end: number, partial = false): Record<string, string> {
  return {
    'Accept-Ranges': 'bytes',
    'Content-Length': String(Math.max(0, end - start + 1)),
    ETag: info.etag,
    'Last-Modified': new Date(info.lastModified).toUTCString(),
    ...(partial ? { 'Content-Range': `bytes ${start}-${end}/${info.size}` } : {}),
  };
}

function answerUnsatisfiable(res: ServerResponse, info: BlobInfo): 'sent' {
  res.writeHead(416, { 'Content-Range': `bytes */${info.size}`, 'Content-Length': '0' });
  res.end();
  return 'sent';
}

/** `If-Range` holds the tag or the date the client's earlier part came with (matched as `send` does). */
function rangeStillFresh(ifRange: string | undefined, info: BlobInfo): boolean {
  if (ifRange === undefined) return true;
  if (ifRange.includes('"')) return ifRange.trim() === info.etag;
  const date = Date.parse(ifRange);
  return Number.isFinite(date) && Math.floor(info.lastModified / 1000) * 1000 <= date;
}

/** `If-None-Match`: a list of tags or `*`; weak comparison, as RFC 9110 §13.1.2 asks for GET. */
function tagMatches(header: string, etag: string): boolean {
  const bare = (tag: string) => tag.trim().replace(/^W\//, '');
  return header.trim() === '*' || header.split(',').some((tag) => bare(tag) === bare(etag));
}
