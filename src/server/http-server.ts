import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import send from 'send';
import type { AppContext } from '../lib/context.ts';
import { checkDatabase } from '../lib/db/index.ts';
import { httpsRedirectLocation } from '../lib/http/security.ts';
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
  url: URL;
  requestId: string;
}

/**
 * A route served by the node server itself rather than Astro: health checks and large
 * files (an Astro `Response` body is written without waiting for the socket to drain,
 * which was measured to hold a whole video in memory; see DESIGN.md §1).
 * Returns false when the request is not its own.
 */
export type NodeRoute = (r: NodeRequestContext) => boolean | Promise<boolean>;

export interface ServerOptions {
  astro: AstroHandler;
  /** Built client assets (`dist/client`). */
  clientDir: string;
  routes?: NodeRoute[];
}

const REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/;

export const healthRoute: NodeRoute = ({ ctx, res, url }) => {
  if (url.pathname !== '/healthz') return false;
  let ok = false;
  try {
    ok = checkDatabase(ctx.db);
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
  const statics = staticRoute(path.resolve(options.clientDir));
  const routes: NodeRoute[] = [healthRoute, ...(options.routes ?? []), statics];
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const incomingId = req.headers['x-request-id'];
    const requestId = typeof incomingId === 'string' && REQUEST_ID.test(incomingId) ? incomingId : randomUUID();
    res.setHeader('X-Request-Id', requestId);
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

    const url = new URL(req.url ?? '/', 'http://internal');
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
      res.writeHead(req.method === 'GET' || req.method === 'HEAD' ? 301 : 308, { Location: httpsLocation });
      res.end();
      return;
    }
    try {
      for (const candidate of routes) {
        if (await candidate({ ctx, req, res, url, requestId })) {
          route = candidate === statics ? 'static' : nodeRouteLabel(url.pathname);
          return;
        }
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

/** An HTTP server with timeouts suited to Beem; requests are attached with `serveApp`. */
export function createBareServer(): http.Server {
  const server = http.createServer();
  // Slow clients may take minutes over a video; only idle keep-alive sockets are cut short.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 5_000;
  return server;
}

export function serveApp(server: http.Server, ctx: AppContext, options: ServerOptions): http.Server {
  server.on('request', createRequestListener(ctx, options));
  return server;
}

export function createServer(ctx: AppContext, options: ServerOptions): http.Server {
  return serveApp(createBareServer(), ctx, options);
}
