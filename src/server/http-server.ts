import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import send from 'send';
import type { AppContext } from '../lib/context.ts';
import { BASE_SECURITY_HEADERS, httpsRedirectLocation, transportSecurityHeaders } from '../lib/http/security.ts';
import { canonicalRequestTarget } from '../lib/http/canonical-path.ts';
import { attachReadBody, bodyRuleFor, declaredLength, hasRequestBody, readBoundedBody } from '../lib/http/request-body.ts';
import { sendNodeError } from '../lib/http/node-kit.ts';
import { nodeRouteLabel } from '../lib/metrics/metrics.ts';

/** `@astrojs/node` in middleware mode: `handler(req, res, next, locals)`. */
export type AstroHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (err?: unknown) => void,
  locals: Partial<App.Locals>,
) => Promise<void>;

export interface NodeRequestContext {
  ctx: AppContext;
  req: IncomingMessage;
  res: ServerResponse;
  /** Canonical: one spelling per path (see canonical-path.ts). */
  url: URL;
  requestId: string;
  /** The request body, already read within its limits; null when there is none. */
  body: Buffer | null;
}

/**
 * A route served by the node server itself rather than Astro: health checks and large
 * files (an Astro `Response` body is written without waiting for the socket to drain,
 * which was measured to hold a whole video in memory; see DESIGN.md §1).
 * Returns false when the request is not its own.
 */
export type NodeRoute = (r: NodeRequestContext) => boolean | Promise<boolean>;

export interface ServerOptions {
  /** Pages and API routes; absent in a worker process (BEEM_ROLE=worker), where what no node route answers is 404. */
  astro?: AstroHandler;
  /** Built client assets (`dist/client`); absent: none are served. */
  clientDir?: string;
  routes?: NodeRoute[];
}

const REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/;

/** Methods Beem answers; anything else (TRACE, PROPFIND…) is 405 before any route sees it. */
const ALLOWED_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
const ALLOWED_METHOD_SET = new Set(ALLOWED_METHODS);

/** The photo upload says what its limit is; every other body is just "too large". */
const bodyTooLargeCode = (pathname: string) => (pathname === '/api/upload-image' ? 'IMAGE_TOO_LARGE' : 'BODY_TOO_LARGE');

/** Astro's image endpoint: Beem serves no transformed images, and it sized images on request. */
const ASTRO_IMAGE_ENDPOINT = '/_image';

export const healthRoute: NodeRoute = async ({ ctx, res, url }) => {
  if (url.pathname !== '/healthz') return false;
  let ok = false;
  try {
    ok = (await ctx.db.value<number>('SELECT 1')) === 1;
  } catch (err) {
    ctx.log.error({ err }, 'health check failed');
  }
  res.writeHead(ok ? 200 : 503, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify({ ok }));
  return true;
};

/** Files Astro built for the browser (`/_astro/*`, favicon …). */
function staticRoute(clientDir: string): NodeRoute {
  // The build output does not change while the server runs, so only paths under one of its
  // top-level entries are looked up on disk: a stat on every page request (/app, /billing…)
  // was 3% of a page's CPU.
  const entries = new Set(listEntries(clientDir));
  return ({ req, res, url }) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    if (url.pathname === '/' || url.pathname.endsWith('/')) return false;
    let file: string;
    try {
      file = path.join(clientDir, decodeURIComponent(url.pathname));
    } catch {
      return false;
    }
    if (!file.startsWith(clientDir + path.sep)) return false;
    if (!entries.has(file.slice(clientDir.length + 1).split(path.sep, 1)[0]!)) return false;
    let stat: fs.Stats;
    try {
      stat = fs.statSync(file);
    } catch {
      return false;
    }
    if (!stat.isFile()) return false;
    const immutable = url.pathname.startsWith('/_astro/');
    send(req, url.pathname, {
      root: clientDir,
      dotfiles: 'deny',
      immutable,
      maxAge: immutable ? '365d' : '1h',
    })
      .on('headers', (response: ServerResponse) => response.setHeader('X-Content-Type-Options', 'nosniff'))
      .pipe(res);
    return true;
  };
}

function listEntries(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

export function createRequestListener(ctx: AppContext, options: ServerOptions) {
  const statics = options.clientDir ? staticRoute(path.resolve(options.clientDir)) : null;
  const routes: NodeRoute[] = [healthRoute, ...(options.routes ?? []), ...(statics ? [statics] : [])];
  const securityHeaders = { ...BASE_SECURITY_HEADERS, ...transportSecurityHeaders(ctx.config) };
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const incomingId = req.headers['x-request-id'];
    const requestId = typeof incomingId === 'string' && REQUEST_ID.test(incomingId) ? incomingId : randomUUID();
    res.setHeader('X-Request-Id', requestId);
    // Every answer carries these, whichever layer writes it (node routes, edge refusals, Astro).
    for (const [name, value] of Object.entries(securityHeaders)) res.setHeader(name, value);
    const log = ctx.log.child({ reqId: requestId });
    res.on('finish', () => {
      log.info(
        { method: req.method, path: req.url?.split('?')[0], status: res.statusCode, ms: Math.round(performance.now() - started) },
        'request',
      );
    });
    // The metrics label is a route pattern: a node route's path with ids replaced, or the
    // pattern Astro matched (the middleware copies it into locals), never the raw URL.
    let route = 'unmatched';
    const locals: Partial<App.Locals> = { ctx, requestId, log, clientAddress: req.socket.remoteAddress ?? null };
    res.once('close', () => {
      ctx.metrics.observeHttp({
        method: req.method ?? 'OTHER',
        route: locals.routePattern ?? route,
        status: res.statusCode,
        seconds: (performance.now() - started) / 1000,
      });
    });

    const method = req.method ?? '';
    if (!ALLOWED_METHOD_SET.has(method)) {
      route = 'method_not_allowed';
      sendNodeError(req, res, 405, 'METHOD_NOT_ALLOWED', { Allow: ALLOWED_METHODS.join(', '), Connection: 'close' });
      return;
    }
    // One spelling per path before anything looks at it: the node routes and Astro's router
    // then see the same path, and access is never decided on another spelling of it.
    const target = canonicalRequestTarget(req.url ?? '', method);
    if (target.kind === 'bad-request') {
      route = 'bad_path';
      sendNodeError(req, res, 400, 'BAD_PATH', { Connection: 'close' });
      return;
    }
    if (target.kind === 'not-found') {
      route = 'bad_path';
      sendNodeError(req, res, 404, 'NOT_FOUND', { Connection: 'close' });
      return;
    }
    if (target.kind === 'redirect') {
      route = 'canonical_redirect';
      res.writeHead(308, { Location: target.location, 'Cache-Control': 'no-store' });
      res.end();
      return;
    }
    const url = new URL(`${target.path}${target.query}`, 'http://internal');
    // Behind the proxy, a plain-HTTP visit goes to the https address (health checks come
    // straight to us, without forwarded headers, and are left alone).
    const forwardedProto = req.headers['x-forwarded-proto'];
    const httpsLocation = httpsRedirectLocation(
      ctx.config,
      Array.isArray(forwardedProto) ? forwardedProto[0] : forwardedProto,
      `${url.pathname}${url.search}`,
    );
    if (httpsLocation && url.pathname !== '/healthz') {
      route = 'https_redirect';
      res.writeHead(method === 'GET' || method === 'HEAD' ? 301 : 308, { Location: httpsLocation });
      res.end();
      return;
    }
    if (url.pathname === ASTRO_IMAGE_ENDPOINT || url.pathname.startsWith(`${ASTRO_IMAGE_ENDPOINT}/`)) {
      sendNodeError(req, res, 404, 'NOT_FOUND');
      return;
    }

    let body: Buffer | null = null;
    if (hasRequestBody(req)) {
      const rule = bodyRuleFor(url.pathname, ctx.config.server);
      // A 413 keeps the connection: Node then reads and discards the rest of the body (never
      // buffering it), so the client sees the answer instead of a reset mid-upload; the
      // server-wide request timeout still ends a body that never stops.
      if ((declaredLength(req) ?? 0) > rule.limit) {
        route = 'body_too_large';
        sendNodeError(req, res, 413, bodyTooLargeCode(url.pathname));
        return;
      }
      const read = await readBoundedBody(req, rule);
      if (read.kind !== 'ok') {
        route = `body_${read.kind}`;
        if (read.kind === 'aborted') res.destroy();
        else if (read.kind === 'too-large') sendNodeError(req, res, 413, bodyTooLargeCode(url.pathname));
        else sendNodeError(req, res, 408, 'REQUEST_TIMEOUT', { Connection: 'close' });
        return;
      }
      body = read.body;
      attachReadBody(req, body);
    }

    try {
      for (const candidate of routes) {
        // Labelled before it runs: a route that streams (a video from the bucket) may finish the
        // answer, and so the metrics' close event, before its promise resolves.
        route = candidate === statics ? 'static' : nodeRouteLabel(url.pathname);
        if (await candidate({ ctx, req, res, url, requestId, body })) return;
        route = 'unmatched';
      }
      if (!options.astro) {
        sendNodeError(req, res, 404, 'NOT_FOUND');
        return;
      }
      await options.astro(
        req,
        res,
        (err) => {
          if (err) log.error({ err }, 'astro handler failed');
          if (!res.headersSent) {
            res.writeHead(err ? 500 : 404, { 'Content-Type': 'text/plain; charset=utf-8' });
          }
          res.end(err ? 'Internal Server Error' : 'Not Found');
        },
        // clientAddress is the socket's peer; a proxy header is believed only where TRUST_PROXY says so.
        locals,
      );
    } catch (err) {
      log.error({ err }, 'unhandled request error');
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Internal Server Error');
    }
  };
}

/**
 * An HTTP server; requests are attached with `serveApp`, which also sets its timeouts from
 * the config. Connections are checked for those timeouts every 2 s (Node's default is 30 s).
 */
export function createBareServer(): http.Server {
  return http.createServer({ connectionsCheckingInterval: 2_000 });
}

/**
 * Slow clients are cut off: headers within `headersTimeoutMs`, the whole request within
 * `requestTimeoutMs` (sized for the slowest legitimate photo upload; small bodies have their
 * own deadline in the body reader). Responses are not limited: a video may take minutes to
 * a slow phone. Idle keep-alive sockets close after 5 s.
 */
export function serveApp(server: http.Server, ctx: AppContext, options: ServerOptions): http.Server {
  server.requestTimeout = ctx.config.server.requestTimeoutMs;
  server.headersTimeout = ctx.config.server.headersTimeoutMs;
  server.keepAliveTimeout = 5_000;
  server.on('request', createRequestListener(ctx, options));
  return server;
}

export function createServer(ctx: AppContext, options: ServerOptions): http.Server {
  return serveApp(createBareServer(), ctx, options);
}
