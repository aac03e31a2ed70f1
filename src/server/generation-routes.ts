import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NodeRoute } from './http-server.ts';
import type { AppContext } from '../lib/context.ts';
import { localeOfNodeRequest, nodeSessionUser, sendJson, sendNodeError } from '../lib/http/node-kit.ts';
import { BlobStoreError, serveBlob } from '../lib/blobs/index.ts';
import { getCurrentUpload, getUpload } from '../lib/uploads/uploads.ts';
import { findCurrentVideo, findExpiredVideoForViewer, findVideoForViewer } from '../lib/generation/views.ts';
import { expiredVideoMessage, type VideoExpiry } from '../lib/video/retention.ts';
import { handleMinimaxCallback } from '../lib/generation/callback.ts';
import { previewFrame } from './frame-preview.ts';

/**
 * Node routes of the generation pipeline: files (photos, videos) streamed with HTTP Range
 * from the blob store (disk or bucket), and MiniMax's callback, which must answer within 3 s whatever the
 * app is doing (no Astro rendering, no session lookup on that path).
 */

export function sendError(req: IncomingMessage, res: ServerResponse, status: 401 | 404 | 405, code: string): void {
  sendNodeError(req, res, status, code, status === 405 ? { Allow: 'GET, HEAD' } : {});
}

/** 410 Gone for a video the retention sweep deleted (and its exports), saying so in the viewer's language. */
export function sendVideoExpired(req: IncomingMessage, res: ServerResponse, expiry: VideoExpiry): void {
  sendJson(res, 410, { success: false, code: 'VIDEO_EXPIRED', error: expiredVideoMessage(localeOfNodeRequest(req), expiry.days), expiredAt: expiry.at });
}

export interface FileOptions {
  contentType: string;
  /** ASCII file name for `?download=1`. */
  downloadName?: string;
  /** A nicer (Russian) name, sent as RFC 5987 `filename*` beside the ASCII one. */
  downloadNameUtf8?: string;
}

/** `attachment; filename="…"` plus `filename*=UTF-8''…` when there is a non-ASCII name (RFC 6266, 5987). */
export function contentDisposition(ascii: string, utf8?: string): string {
  const value = `attachment; filename="${ascii}"`;
  if (!utf8) return value;
  const encoded = encodeURIComponent(utf8).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${value}; filename*=UTF-8''${encoded}`;
}

/** Seconds a client waits before asking again when the store did not answer. */
const STORAGE_RETRY_AFTER_S = 5;

/**
 * Streams a stored file with Range support (serveBlob: stream-through, never a redirect to the
 * bucket, see blob-store.ts); never through an Astro Response (DESIGN.md §1). The caller has
 * checked the viewer. A store that fails before the answer started gets a 503 to retry; one
 * that breaks mid-stream cuts the connection (serveBlob), and both are logged.
 */
export async function streamStoredFile(ctx: AppContext, req: IncomingMessage, res: ServerResponse, relative: string, options: FileOptions): Promise<void> {
  const headers: Record<string, string> = {
    'Content-Type': options.contentType,
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'private, max-age=3600',
  };
  if (options.downloadName) headers['Content-Disposition'] = contentDisposition(options.downloadName, options.downloadNameUtf8);
  try {
    if ((await serveBlob(ctx.blobs, req, res, relative, { headers })) === 'sent') return;
    ctx.log.error({ mod: 'files', path: relative }, 'stored file is missing');
    sendError(req, res, 404, 'NOT_FOUND');
  } catch (err) {
    if (err instanceof BlobStoreError && err.code === 'BLOB_KEY_INVALID') return sendError(req, res, 404, 'NOT_FOUND');
    ctx.log.error({ mod: 'files', path: relative, err }, 'reading a stored file failed');
    if (!res.headersSent) sendNodeError(req, res, 503, 'INTERNAL', { 'Retry-After': String(STORAGE_RETRY_AFTER_S) });
  }
}

const UPLOAD_PATH = /^\/api\/uploads\/([A-Za-z0-9_]{1,80})$/;
const VIDEO_PATH = /^\/api\/video\/([A-Za-z0-9_]{1,80})$/;

/**
 * `GET /api/uploads/<id>` (or `current`: the newest): the photo's preview, for its owner or an
 * admin; with `?format=` (and `fx`, `fy`) the first frame cut as it will be sent.
 */
export const uploadPreviewRoute: NodeRoute = async ({ ctx, req, res, url }) => {
  const match = UPLOAD_PATH.exec(url.pathname);
  if (!match) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') return (sendError(req, res, 405, 'METHOD_NOT_ALLOWED'), true);
  const viewer = await nodeSessionUser(ctx, req, res);
  if (!viewer) return (sendError(req, res, 401, 'UNAUTHORIZED'), true);
  const id = match[1]!;
  const upload = id === 'current' ? await getCurrentUpload(ctx.db, viewer.id) : await getUpload(ctx.db, id);
  if (!upload || (upload.userId !== viewer.id && viewer.role !== 'admin')) return (sendError(req, res, 404, 'NOT_FOUND'), true);
  const frame = url.searchParams.has('format') ? await previewFrame(ctx, req, res, upload, url.searchParams) : upload.path;
  if (frame) await streamStoredFile(ctx, req, res, frame, { contentType: upload.mime });
  return true;
};

/**
 * `GET /api/video/current` (the newest finished video) and `GET /api/video/<generationId>`,
 * for the owner or an admin; `?download=1` asks the browser to save it. A video the retention
 * sweep deleted answers 410 with the reason.
 */
export const videoRoute: NodeRoute = async ({ ctx, req, res, url }) => {
  const match = VIDEO_PATH.exec(url.pathname);
  if (!match) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') return (sendError(req, res, 405, 'METHOD_NOT_ALLOWED'), true);
  const viewer = await nodeSessionUser(ctx, req, res);
  if (!viewer) return (sendError(req, res, 401, 'UNAUTHORIZED'), true);
  const id = match[1]!;
  const video = id === 'current' ? await findCurrentVideo(ctx.db, viewer.id) : await findVideoForViewer(ctx.db, id, viewer);
  if (!video) {
    const expiry = id === 'current' ? null : await findExpiredVideoForViewer(ctx.db, id, viewer);
    if (expiry) sendVideoExpired(req, res, expiry);
    else sendError(req, res, 404, 'VIDEO_NOT_FOUND');
    return true;
  }
  const download = url.searchParams.get('download') === '1';
  await streamStoredFile(ctx, req, res, video.path, {
    contentType: 'video/mp4',
    downloadName: download ? `beem-${video.generationId}.mp4` : undefined,
  });
  return true;
};

/** `POST /minimax_callback`: echo challenges at once; pushes only trigger a confirming query. */
export const minimaxCallbackRoute: NodeRoute = async ({ ctx, req, res, url, body: raw }) => {
  if (url.pathname !== '/minimax_callback') return false;
  if (req.method !== 'POST') {
    sendJson(res, 405, { status: 'error' }, { Allow: 'POST' });
    return true;
  }
  const log = ctx.log.child({ mod: 'minimax-callback' });
  let body: unknown = undefined;
  try {
    body = raw ? JSON.parse(raw.toString('utf8')) : undefined;
  } catch {
    body = undefined;
  }
  const outcome = await handleMinimaxCallback(ctx.db, body, ctx.clock.now());
  if (outcome.kind === 'challenge') {
    sendJson(res, 200, { challenge: outcome.challenge });
    return true;
  }
  if (outcome.kind === 'invalid') {
    // Anyone can post here, so junk is counted and logged but pages nobody: the operator
    // hears when real tasks stop getting answers (the stuck detector), not from strangers.
    sendJson(res, 400, { status: 'error' });
    ctx.metrics.countRejectedCallback();
    log.warn('invalid MiniMax callback body');
    return true;
  }
  sendJson(res, 200, { status: 'success' });
  if (outcome.generationId) {
    log.info({ taskId: outcome.taskId, generationId: outcome.generationId }, 'status push: confirming with MiniMax');
    ctx.generationWorker.wake(outcome.generationId);
  } else {
    log.info({ taskId: outcome.taskId }, 'status push for an unknown or finished task ignored');
  }
  return true;
};

export const generationRoutes: NodeRoute[] = [minimaxCallbackRoute, uploadPreviewRoute, videoRoute];
