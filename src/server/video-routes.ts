import type { NodeRoute } from './http-server.ts';
import type { AppContext } from '../lib/context.ts';
import { localeOfNodeRequest, nodeSessionUser, sendJson, sendNodeError } from '../lib/http/node-kit.ts';
import { t } from '../lib/i18n/index.ts';
import { findCurrentVideo } from '../lib/generation/views.ts';
import { findMediaForViewer, hasVideo, posterOf } from '../lib/video/media.ts';
import { findExport, requestExport, type ExportKey } from '../lib/video/export-store.ts';
import { EXPORT_TARGETS, exportFileName, exportFileNameRu, isExportFit, isExportTarget } from '../lib/video/formats.ts';
import { sendError, sendVideoExpired, streamStoredFile } from './generation-routes.ts';

/**
 * A video's poster and its marketplace exports, with the same access rules as the video
 * (`/api/video/<id>`: the owner or an admin, everyone else 404) and the same file serving
 * (Range, `?download=1`). An export is made on the first request: until it is ready the answer
 * is 202 with `Retry-After`, and every request in the meantime joins the one being made. After
 * the retention sweep deleted a video, its exports answer 410 like the video; its poster falls
 * back to the first frame, which is kept (retention.ts).
 */

const POSTER_PATH = /^\/api\/video\/([A-Za-z0-9_]{1,80})\/poster\.jpg$/;
const EXPORT_PATH = /^\/api\/video\/([A-Za-z0-9_]{1,80})\/export\/([a-z0-9-]{1,40})(\/cover\.jpg)?$/;
/** Seconds a client waits before asking again while an export is made. */
const RETRY_AFTER_S = 2;
/** A failed export is tried again by a request made this long after it failed. */
const RETRY_FAILED_AFTER_MS = 60_000;

export const posterRoute: NodeRoute = async ({ ctx, req, res, url }) => {
  const match = POSTER_PATH.exec(url.pathname);
  if (!match) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') return (sendError(req, res, 405, 'METHOD_NOT_ALLOWED'), true);
  const viewer = await nodeSessionUser(ctx, req, res);
  if (!viewer) return (sendError(req, res, 401, 'UNAUTHORIZED'), true);
  const media = await findMediaForViewer(ctx.db, match[1]!, viewer);
  if (!media) return (sendError(req, res, 404, 'VIDEO_NOT_FOUND'), true);
  let poster: string | null;
  try {
    poster = await posterOf(ctx.db, ctx.blobs, media);
  } catch (err) {
    ctx.log.warn({ err, generationId: media.generationId }, 'no poster or first frame for a generation');
    poster = null;
  }
  if (!poster) return (sendError(req, res, 404, 'NOT_FOUND'), true);
  await streamStoredFile(ctx, req, res, poster, { contentType: 'image/jpeg' });
  return true;
};

export const exportRoute: NodeRoute = async ({ ctx, req, res, url }) => {
  const match = EXPORT_PATH.exec(url.pathname);
  if (!match) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') return (sendError(req, res, 405, 'METHOD_NOT_ALLOWED'), true);
  const viewer = await nodeSessionUser(ctx, req, res);
  if (!viewer) return (sendError(req, res, 401, 'UNAUTHORIZED'), true);
  const id = match[1] === 'current' ? (await findCurrentVideo(ctx.db, viewer.id))?.generationId : match[1];
  const media = id ? await findMediaForViewer(ctx.db, id, viewer) : null;
  if (media?.expiry) return (sendVideoExpired(req, res, media.expiry), true);
  if (!media || !hasVideo(media)) return (sendError(req, res, 404, 'VIDEO_NOT_FOUND'), true);
  const targetId = match[2]!;
  if (!isExportTarget(targetId)) return (sendError(req, res, 404, 'EXPORT_TARGET_UNKNOWN'), true);
  const fit = url.searchParams.get('fit') ?? 'blur';
  if (!isExportFit(fit)) return (sendNodeError(req, res, 400, 'EXPORT_FIT_INVALID'), true);
  const kind = match[3] ? 'cover' : 'video';
  // Without ffmpeg no export runner claims work in this process (the menu is hidden as well).
  if (!ctx.ffmpeg.available) return (sendNodeError(req, res, 503, 'EXPORTS_UNAVAILABLE'), true);

  const key: ExportKey = { generationId: media.generationId, target: targetId, fit, kind };
  const row = await requestExport(
    ctx.db,
    key,
    {
      now: ctx.clock.now(),
      retryFailedAfterMs: RETRY_FAILED_AFTER_MS,
      missingFile: await missingExportFile(ctx, key),
      ownerLimit: { userId: media.userId, max: ctx.config.video.exportsPerUser },
    },
  );
  if (row === 'busy') {
    sendNodeError(req, res, 429, 'EXPORTS_BUSY', { 'Retry-After': String(RETRY_AFTER_S * 5) });
    return true;
  }
  if (row.state === 'done' && row.path) {
    const target = EXPORT_TARGETS[targetId];
    const download = url.searchParams.get('download') === '1';
    await streamStoredFile(ctx, req, res, row.path, {
      contentType: kind === 'video' ? 'video/mp4' : 'image/jpeg',
      downloadName: download ? exportFileName(target, kind) : undefined,
      downloadNameUtf8: download ? exportFileNameRu(target, kind) : undefined,
    });
    return true;
  }
  if (row.state === 'failed') {
    const code = row.errorCode === 'EXPORT_TIMEOUT' ? 'EXPORT_TIMEOUT' : 'EXPORT_FAILED';
    sendNodeError(req, res, 500, code, { 'Retry-After': String(RETRY_FAILED_AFTER_MS / 1000) });
    return true;
  }
  ctx.exports.wake();
  sendJson(
    res,
    202,
    { success: true, status: row.state, retryAfter: RETRY_AFTER_S, format: EXPORT_TARGETS[targetId].format, message: t(localeOfNodeRequest(req), 'errors.EXPORT_PENDING') },
    { 'Retry-After': String(RETRY_AFTER_S) },
  );
  return true;
};

/**
 * The file of a finished export that is gone from the store (made again on request), looked
 * up before requestExport's transaction: a store call never runs inside one.
 */
async function missingExportFile(ctx: AppContext, key: ExportKey): Promise<string | null> {
  const current = await findExport(ctx.db, key);
  if (current?.state !== 'done' || !current.path) return null;
  return (await ctx.blobs.exists(current.path)) ? null : current.path;
}

export const videoMediaRoutes: NodeRoute[] = [posterRoute, exportRoute];
