import type { ServerResponse } from 'node:http';
import type { NodeRoute } from './http-server.ts';
import { localeOfNodeRequest, nodeRequestHeaders, nodeSessionUser, readCookie, sendNodeError } from '../lib/http/node-kit.ts';
import { corsHeaders, isAllowedCorsOrigin, isTrustedStateChange } from '../lib/http/security.ts';
import { isSessionActive, SESSION_COOKIE } from '../lib/auth/sessions.ts';
import type { StatusSink } from '../lib/generation/status-watch.ts';
import { ID_PATTERN } from '../lib/ids.ts';

/**
 * `GET /api/status/stream?generationId=`: the status of one generation pushed as
 * Server-Sent Events (src/lib/generation/status-watch.ts feeds it from the database).
 * Same owner rules as `/api/status` (the owner or an admin; anyone else 404), errors as JSON
 * in the visitor's language before the stream starts, so the page's fallback poll shows
 * the same answer. A long-lived response on the node server, never through Astro (whose
 * Response bodies do not wait for the socket). The server's request timeout does not end
 * it: that timeout covers receiving the request, which a GET finishes at once.
 */

const PATH = '/api/status/stream';

/** Ends an SSE response as the client will read it; writes are dropped once it closed. */
function sseSink(res: ServerResponse): StatusSink {
  const write = (text: string) => {
    if (!res.writableEnded && !res.destroyed) res.write(text);
  };
  return {
    // JSON.stringify never yields a line break, so one `data:` line holds the whole view.
    event: (data) => write(`data: ${data}\n\n`),
    end: () => {
      if (!res.writableEnded) res.end();
    },
    backlog: () => res.writableLength,
  };
}

export const statusStreamRoute: NodeRoute = async ({ ctx, req, res, url }) => {
  if (url.pathname !== PATH) return false;
  if (req.method !== 'GET') {
    sendNodeError(req, res, 405, 'METHOD_NOT_ALLOWED', { Allow: 'GET' });
    return true;
  }
  const origin = req.headers.origin;
  if (origin !== undefined && !isTrustedStateChange(nodeRequestHeaders(req), ctx.config)) {
    sendNodeError(req, res, 403, 'CROSS_SITE_REQUEST');
    return true;
  }
  const cors = origin !== undefined && isAllowedCorsOrigin(origin, ctx.config) ? corsHeaders(origin) : {};
  const user = await nodeSessionUser(ctx, req, res);
  if (!user) {
    sendNodeError(req, res, 401, 'UNAUTHORIZED', cors);
    return true;
  }
  const generationId = url.searchParams.get('generationId') ?? '';
  if (!ID_PATTERN.test(generationId)) {
    sendNodeError(req, res, 400, 'GENERATION_NOT_FOUND', cors);
    return true;
  }
  const token = readCookie(req.headers.cookie, SESSION_COOKIE) ?? '';
  const sessionOptions = () => ({ now: ctx.clock.now(), ttlMs: ctx.config.session.ttlMs });
  const sink = sseSink(res);
  // Headers go out only when the stream is accepted: every refusal above and below stays JSON.
  let started = false;
  const startStream = () => {
    if (started) return;
    started = true;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store, no-transform',
      // A proxy must pass each event on at once: nginx buffers responses unless told so here.
      'X-Accel-Buffering': 'no',
      ...cors,
    });
    res.socket?.setNoDelay(true);
  };
  // The client may leave while the first view is read; its stream is dropped as soon as it opens.
  let gone = false;
  res.once('close', () => {
    gone = true;
  });
  const result = await ctx.statusWatch.watch({
    generationId,
    viewer: user,
    locale: localeOfNodeRequest(req),
    sink: {
      event: (data) => (startStream(), sink.event(data)),
      end: () => (startStream(), sink.end()),
      backlog: sink.backlog,
    },
    stillSignedIn: async () => await isSessionActive(ctx.db, token, sessionOptions()),
  });
  switch (result.kind) {
    case 'open':
      if (gone) result.close();
      else res.once('close', result.close);
      return true;
    case 'not-found':
      sendNodeError(req, res, 404, 'GENERATION_NOT_FOUND', cors);
      return true;
    case 'too-many':
      ctx.log.warn({ userId: user.id, scope: result.scope }, 'status stream refused: too many open');
      sendNodeError(req, res, 429, 'STATUS_STREAMS_TOO_MANY', { 'Retry-After': '30', ...cors });
      return true;
    case 'stopping':
      sendNodeError(req, res, 503, 'SERVICE_UNAVAILABLE', { 'Retry-After': '5', ...cors });
      return true;
  }
};
